"""Français : toutes les chaînes du tableau de bord (mêmes clés que `en.py`)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # -- cadre
    "nav.label": "Menu principal",
    "nav.sessions": "Sessions",
    "nav.keys": "Clés API",
    "nav.usage": "Consommation",
    "nav.sandbox": "Bac à sable",
    "nav.admin_users": "Utilisateurs",
    "nav.admin_plans": "Forfaits",
    "nav.language": "Langue",
    "nav.logout": "Se déconnecter",
    "footer.api_docs": "Documentation de l'API",
    "common.copy": "Copier",
    "common.copied": "Copié",
    "common.cancel": "Annuler",
    "common.save": "Enregistrer",
    "common.created": "Créée le",
    "common.actions": "Actions",
    # -- statuts et moteurs
    "status.connecting": "Connexion",
    "status.qr_ready": "En attente du scan",
    "status.connected": "Connectée",
    "status.disconnected": "Déconnectée",
    "status.logged_out": "Déliée",
    "engine.sandbox": "Bac à sable (simulé)",
    "engine.neonize": "WhatsApp",
    # -- formulaires
    "form.required": "{field} : ce champ est obligatoire.",
    "form.too_long": "{field} : {max} caractères au plus.",
    "form.not_a_count": "{field} : un nombre entier (0 ou plus), ou vide pour illimité.",
    "form.choose": "{field} : choisissez parmi {options}.",
    "form.bad_phone": (
        "{field} : ce n'est pas un numéro de téléphone. Donnez le numéro avec son indicatif "
        "pays, par exemple +222 41 85 79 75."
    ),
    "form.bad_email": "{field} : ce n'est pas une adresse e-mail.",
    "form.password_short": "{field} : au moins {min} caractères.",
    # -- erreurs
    "error.title": "Une erreur est survenue",
    "error.title_403": "Accès refusé",
    "error.title_404": "Introuvable",
    "error.title_429": "Trop de requêtes",
    "error.back": "Retour au tableau de bord",
    "error.csrf": (
        "Ce formulaire a expiré ou a été envoyé depuis un autre site. "
        "Revenez en arrière, rechargez la page et réessayez."
    ),
    "error.admin_only": "Cette page est réservée aux administrateurs.",
    "error.bad_request": "Cette requête n'est pas valide.",
    "error.internal": "Une erreur inattendue est survenue. Référence : {ref}",
    "error.not_found": "Introuvable.",
    "error.page_not_found": "Il n'y a pas de page à cette adresse.",
    "error.session_not_found": "Cette session n'existe pas.",
    "error.key_not_found": "Cette clé API n'existe pas.",
    "error.user_not_found": "Cet utilisateur n'existe pas.",
    "error.plan_not_found": "Ce forfait n'existe pas.",
    "error.session_limit": (
        "Limite de sessions de votre forfait atteinte : supprimez une session ou passez "
        "à un forfait supérieur."
    ),
    "error.message_limit": "Limite quotidienne de messages de votre forfait atteinte.",
    "error.not_supported": "Le moteur de cette session ne sait pas faire cela.",
    "error.session_state": "La session n'est pas dans le bon état pour cela (voir son statut).",
    "error.session_not_running": "La session ne tourne pas : redémarrez-la d'abord.",
    "error.engine_disabled": "Le moteur de cette session n'est pas activé sur ce serveur.",
    "error.qr_expired": "Ce QR code a expiré : scannez celui affiché maintenant.",
    "error.pair_code_invalid": "Code d'association erroné ou expiré.",
    "error.email_taken": "e-mail : un utilisateur avec cette adresse existe déjà.",
    "error.unknown_plan": "forfait : ce forfait n'existe pas.",
    "error.password_too_short": "mot de passe : trop court.",
    "error.unavailable": "WhatsApp est injoignable pour le moment : réessayez dans un instant.",
    # -- connexion
    "login.title": "Connexion",
    "login.intro": "Sessions, clés API et consommation de votre compte Sendmako.",
    "login.email": "E-mail",
    "login.password": "Mot de passe",
    "login.submit": "Se connecter",
    "login.help": (
        "Pas encore de mot de passe ? L'administrateur en définit un avec : "
        "sendmako users passwd VOTRE_EMAIL"
    ),
    "login.wrong": "E-mail ou mot de passe incorrect.",
    "login.disabled": "Ce compte est désactivé. Contactez l'administrateur.",
    "login.throttled": "Trop de tentatives échouées. Réessayez dans {minutes} minute(s).",
    "login.logged_out": "Vous êtes déconnecté.",
    # -- sessions
    "sessions.title": "Sessions",
    "sessions.count": "{count} sur {max} sessions de votre forfait",
    "sessions.count_unlimited": "{count} session(s), sans limite sur votre forfait",
    "sessions.name": "Nom",
    "sessions.name_placeholder": "Ventes, Support…",
    "sessions.id": "Identifiant",
    "sessions.status": "Statut",
    "sessions.phone": "Numéro",
    "sessions.engine": "Moteur",
    "sessions.empty": (
        "Aucune session pour l'instant. Créez-en une ci-dessous, puis scannez son QR code "
        "avec WhatsApp."
    ),
    "sessions.new": "Nouvelle session",
    "sessions.create": "Créer la session",
    "sessions.created": "Session {name} créée.",
    # -- une session
    "session.qr_alt": "QR code à scanner avec WhatsApp",
    "session.scan_title": "Scannez ce QR code avec WhatsApp",
    "session.scan_step1": "Ouvrez WhatsApp sur votre téléphone.",
    "session.scan_step2": (
        "Allez dans Paramètres, puis Appareils connectés, puis Connecter un appareil."
    ),
    "session.scan_step3": "Visez ce code avec le téléphone.",
    "session.qr_rotates": "Le code change régulièrement ; cette page le suit toute seule.",
    "session.sandbox_hint": "C'est une session du bac à sable : pas besoin de téléphone.",
    "session.sandbox_link": "Scannez-la depuis la page Bac à sable",
    "session.pair_title": "Pas d'appareil photo ? Associez avec un code",
    "session.pair_intro": (
        "Saisissez le numéro du compte WhatsApp ; vous recevrez un code à taper dans "
        "WhatsApp, sous Appareils connectés, Connecter avec le numéro de téléphone."
    ),
    "session.pair_phone": "Numéro de téléphone",
    "session.pair_submit": "Obtenir un code",
    "session.pair_shown": (
        "Tapez ce code dans WhatsApp (Appareils connectés, Connecter avec le numéro de téléphone) :"
    ),
    "session.connected_title": "Connectée",
    "session.connected_text": "Liée au {phone}. Envoyez des messages avec votre clé API.",
    "session.connecting_title": "Connexion…",
    "session.connecting_text": "La session démarre ; le QR code apparaît ici dans un instant.",
    "session.disconnected_title": "Connexion perdue",
    "session.disconnected_text": "Le serveur se reconnecte tout seul.",
    "session.logged_out_title": "Déliée du téléphone",
    "session.logged_out_text": "Redémarrez la session pour obtenir un nouveau QR code.",
    "session.manage": "Gérer",
    "session.rename": "Renommer",
    "session.renamed": "Renommée en {name}.",
    "session.restart": "Redémarrer",
    "session.restart_hint": (
        "Redémarrer reconnecte depuis zéro. Supprimer déconnecte le numéro de WhatsApp et "
        "oublie la session."
    ),
    "session.restarted": "Session redémarrée.",
    "session.delete": "Supprimer",
    "session.delete_title": "Supprimer la session {name} ?",
    "session.delete_warning": (
        "Le numéro est déconnecté de WhatsApp et les clés de la session sont effacées. "
        "Pour réutiliser ce numéro, il faudra scanner un nouveau QR code."
    ),
    "session.deleted": "Session {name} supprimée.",
    # -- clés API
    "keys.title": "Clés API",
    "keys.intro": (
        "Envoyez-les en Authorization: Bearer wsa_… avec chaque requête à l'API. "
        "Seuls leurs premiers caractères sont conservés en clair."
    ),
    "keys.new_title": "Votre nouvelle clé API",
    "keys.new_once": "Copiez-la maintenant : elle n'est affichée qu'une seule fois.",
    "keys.new_try": "Essayez-la :",
    "keys.create_title": "Créer une clé",
    "keys.name": "Nom",
    "keys.name_placeholder": "production, CI…",
    "keys.create": "Créer la clé",
    "keys.list_title": "Vos clés",
    "keys.prefix": "Clé",
    "keys.last_used": "Dernière utilisation",
    "keys.never": "jamais",
    "keys.state": "État",
    "keys.active": "Active",
    "keys.revoked_on": "Révoquée le {date}",
    "keys.revoke": "Révoquer",
    "keys.revoke_title": "Révoquer la clé {prefix}… ?",
    "keys.revoke_warning": (
        "Les requêtes faites avec cette clé sont refusées dès maintenant. C'est définitif."
    ),
    "keys.revoked": "Clé {prefix}… révoquée.",
    "keys.empty": "Aucune clé pour l'instant.",
    # -- consommation
    "usage.title": "Consommation et forfait",
    "usage.plan": "Votre forfait : {plan}",
    "usage.sessions": "Sessions",
    "usage.messages_today": "Messages aujourd'hui (UTC)",
    "usage.sessions_limit": "{n}",
    "usage.messages_limit": "{n} par jour",
    "usage.unlimited": "illimité",
    "usage.more": "Besoin de plus ? Demandez un forfait supérieur à l'administrateur.",
    # -- bac à sable
    "sandbox.title": "Bac à sable",
    "sandbox.intro": (
        "Le bac à sable simule WhatsApp. Ici, vous jouez le téléphone de vos sessions du bac "
        "à sable : scanner leur QR code, les délier, couper leur connexion."
    ),
    "sandbox.disabled": (
        "Le moteur bac à sable n'est pas activé sur ce serveur (SENDMAKO_ENGINES)."
    ),
    "sandbox.empty": "Aucune session du bac à sable pour l'instant.",
    "sandbox.create_link": "Créez-en une sur la page Sessions.",
    "sandbox.phone": "Numéro du téléphone simulé",
    "sandbox.phone_hint": "N'importe quel numéro valide, avec son indicatif pays.",
    "sandbox.scan": "Scanner le QR code",
    "sandbox.scanned": "{session} scannée : liée au +{phone}.",
    "sandbox.pair_title": "Ou tapez un code d'association",
    "sandbox.pair_code": "Code d'association",
    "sandbox.pair_submit": "Associer",
    "sandbox.paired": "{session} associée avec le code.",
    "sandbox.linked": "Liée au {phone}.",
    "sandbox.reason": "Motif",
    "sandbox.connection_lost": "Couper la connexion",
    "sandbox.logged_out": "Délier du téléphone",
    "sandbox.done_connection_lost": "{session} : connexion coupée ; elle revient toute seule.",
    "sandbox.done_logged_out": "{session} : déliée du téléphone.",
    "sandbox.logged_out_text": "Déliée. Redémarrez la session pour un nouveau QR code :",
    "sandbox.open_session": "ouvrir la session",
    "sandbox.wait": "En attente de la session…",
    # -- admin : utilisateurs
    "admin.users_title": "Utilisateurs",
    "admin.users_count": "{count} utilisateur(s)",
    "admin.email": "E-mail",
    "admin.plan": "Forfait",
    "admin.sessions": "Sessions",
    "admin.status": "Statut",
    "admin.role_admin": "admin",
    "admin.enabled": "Actif",
    "admin.disabled": "Désactivé",
    "admin.enable": "Activer",
    "admin.disable": "Désactiver",
    "admin.no_password": "sans mot de passe",
    "admin.no_password_hint": (
        "Ne peut pas se connecter au tableau de bord tant qu'aucun mot de passe n'est défini."
    ),
    "admin.new_password": "Nouveau mot de passe",
    "admin.not_yourself": "Vous ne pouvez pas désactiver votre propre compte.",
    "admin.user_disabled": "{email} désactivé : ses clés API et connexions sont refusées.",
    "admin.user_enabled": "{email} activé.",
    "admin.plan_changed": "{email} est maintenant sur le forfait {plan}.",
    "admin.create_title": "Créer un utilisateur",
    "admin.password": "Mot de passe",
    "admin.password_hint": "Au moins {min} caractères. Laissez vide pour en générer un.",
    "admin.is_admin": "Administrateur (peut gérer utilisateurs et forfaits)",
    "admin.create": "Créer l'utilisateur",
    "admin.created_title": "Utilisateur {email} créé",
    "admin.created_once": (
        "Transmettez-les maintenant à l'utilisateur : ils ne sont affichés qu'une seule fois."
    ),
    "admin.first_key": "Première clé API",
    "admin.reset_title": "Nouveau mot de passe pour {email}",
    "admin.reset_once": (
        "Affiché une seule fois. Ses autres connexions au tableau de bord sont fermées."
    ),
    # -- admin : forfaits
    "plans.title": "Forfaits",
    "plans.intro": (
        "Limites de chaque forfait. Les changements s'appliquent aussitôt à tous ses utilisateurs."
    ),
    "plans.name": "Nom",
    "plans.name_placeholder": "equipe",
    "plans.name_hint": "Minuscules, chiffres, - et _.",
    "plans.bad_name": "{field} : minuscules, chiffres, - et _ (40 au plus).",
    "plans.exists": "Un forfait nommé {name} existe déjà : modifiez-le ci-dessus.",
    "plans.max_sessions": "Sessions",
    "plans.daily_messages": "Messages par jour",
    "plans.unlimited": "illimité",
    "plans.members": "{count} utilisateur(s)",
    "plans.new": "Nouveau forfait",
    "plans.create": "Créer le forfait",
    "plans.created": "Forfait {name} créé.",
    "plans.saved": "Forfait {name} enregistré.",
    "plans.blank_hint": "Une limite vide signifie illimité.",
}

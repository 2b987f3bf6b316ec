"""Français : toutes les chaînes du tableau de bord (mêmes clés que `en.py`)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # -- cadre
    "nav.label": "Menu principal",
    "nav.sessions": "Sessions",
    "nav.keys": "Clés API",
    "nav.webhooks": "Webhooks",
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
    "form.not_offered": "{field} : {value} ne fait pas partie des choix proposés.",
    "form.not_a_number": "{field} : un nombre, par exemple 18.0735.",
    "form.refused": "{field} : {reason}",
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
    "error.webhook_not_found": "Ce webhook n'existe pas.",
    "error.delivery_not_found": "Cet envoi n'existe pas.",
    "error.session_not_connected": "La session n'est pas connectée : scannez d'abord son QR code.",
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
    "policy.title": "Envoyer sans risque",
    "policy.intro": (
        "À quelle vitesse et à qui ce numéro peut envoyer, pour que WhatsApp ne le prenne "
        "pas pour un spammeur. Laissez un plafond vide pour n'en avoir aucun."
    ),
    "policy.min_delay_ms": "Délai le plus court entre deux envois (ms)",
    "policy.min_delay_ms_hint": "Un délai est tiré au hasard entre les deux valeurs.",
    "policy.max_delay_ms": "Délai le plus long entre deux envois (ms)",
    "policy.max_delay_ms_hint": "Les envois groupés gardent au moins 500 ms quoi qu'il arrive.",
    "policy.per_hour": "Messages par heure",
    "policy.per_hour_hint": "Les rafales sont ce que WhatsApp remarque en premier.",
    "policy.per_day": "Messages par jour",
    "policy.per_day_hint": "Comptés sur les dernières 24 heures.",
    "policy.new_contacts_per_day": "Nouveaux contacts par jour",
    "policy.new_contacts_per_day_hint": (
        "Les numéros avec lesquels cette session n'a jamais échangé de message. Les contacts "
        "connus ne comptent pas."
    ),
    "policy.same_text_new_contacts": "Même texte à de nouveaux contacts, par jour",
    "policy.same_text_new_contacts_hint": (
        "Un message copié à beaucoup d'inconnus ressemble à du spam."
    ),
    "policy.warmup": "Mise en route",
    "policy.warmup_hint": (
        "Un numéro tout juste lié envoie peu le premier jour, un peu plus chaque jour pendant "
        "une semaine ; de même après un long silence."
    ),
    "policy.typing": "Saisie",
    "policy.typing_hint": "Affiche « en train d'écrire… » avant un texte, plus long s'il est long.",
    "policy.save": "Enregistrer la politique",
    "policy.saved": "Politique d'envoi enregistrée.",
    "policy.whole_number": "{field} : un nombre entier, ou vide pour aucun.",
    "policy.restricted_title": "WhatsApp a restreint ce numéro",
    "policy.restriction_temporary_ban": "Tous les envois attendent qu'elle prenne fin.",
    "policy.restriction_new_contacts": (
        "Les messages aux nouveaux contacts attendent qu'elle prenne fin ; les contacts "
        "connus reçoivent toujours les leurs."
    ),
    "policy.restricted_until": "Elle prend fin d'elle-même le {until}.",
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
    "keys.limit": (
        "Vous avez {max} clés actives, le maximum : révoquez-en une dont vous ne vous servez "
        "plus, puis créez celle-ci."
    ),
    "keys.empty": "Aucune clé pour l'instant.",
    # -- webhooks
    "webhooks.title": "Webhooks",
    "webhooks.intro": (
        "Sendmako envoie chaque événement (un message reçu, un accusé de réception, une "
        "session qui se connecte…) à vos URL par un POST signé, et réessaie jusqu'à ce que "
        "votre serveur réponde 2xx."
    ),
    "webhooks.list_title": "Vos points de terminaison",
    "webhooks.url": "URL",
    "webhooks.url_placeholder": "https://exemple.com/whatsapp/webhook",
    "webhooks.url_hint": "Une adresse http:// ou https:// que ce serveur peut joindre.",
    "webhooks.description": "Description (facultative)",
    "webhooks.description_placeholder": "CRM, bot du support…",
    "webhooks.events": "Événements",
    "webhooks.events_hint": "Aucun coché : tous les événements.",
    "webhooks.sessions": "Sessions",
    "webhooks.sessions_hint": "Aucune cochée : toutes les sessions, y compris les futures.",
    "webhooks.sessions_none": (
        "Aucune session pour l'instant : le webhook reçoit les événements de toutes les sessions."
    ),
    "webhooks.all_events": "Tous les événements",
    "webhooks.all_sessions": "Toutes les sessions",
    "webhooks.state": "État",
    "webhooks.enabled": "Actif",
    "webhooks.disabled": "Désactivé",
    "webhooks.enabled_label": "Actif : lui envoyer les événements dès maintenant",
    "webhooks.open": "Ouvrir",
    "webhooks.empty": (
        "Aucun webhook pour l'instant. Ajoutez-en un ci-dessous pour recevoir les messages "
        "et les événements des sessions."
    ),
    "webhooks.create_title": "Ajouter un webhook",
    "webhooks.create": "Ajouter le webhook",
    "webhooks.created": (
        "Webhook ajouté. Envoyez-lui un événement de test pour vérifier votre récepteur."
    ),
    "webhooks.saved": "Webhook enregistré.",
    "webhooks.enabled_now": "Webhook activé : il reçoit de nouveau les événements.",
    "webhooks.disabled_now": "Webhook désactivé : il ne reçoit plus d'événements.",
    "webhooks.delete": "Supprimer",
    "webhooks.delete_title": "Supprimer le webhook {url} ?",
    "webhooks.delete_warning": (
        "Plus aucun événement n'est envoyé à cette URL, et son journal des envois est effacé."
    ),
    "webhooks.deleted": "Webhook {url} supprimé.",
    "webhooks.rotate": "Changer le secret",
    "webhooks.rotate_title": "Changer le secret de signature de {url} ?",
    "webhooks.rotate_warning": (
        "Un nouveau secret signe chaque envoi dès maintenant et l'ancien cesse aussitôt de "
        "fonctionner : mettez à jour votre récepteur juste après."
    ),
    "webhooks.test_ok": "Événement de test remis : HTTP {status} en {ms} ms.",
    "webhooks.test_failed": "Événement de test non remis ({error}) après {ms} ms.",
    "webhooks.redelivered": "{event} remis en file d'envoi.",
    "webhooks.event_message_received": "un message arrive",
    "webhooks.event_message_status": "un message envoyé est remis ou lu",
    "webhooks.event_session_connected": "une session est liée et connectée",
    "webhooks.event_session_disconnected": "une session perd sa connexion ou est déliée",
    "webhooks.event_session_qr_ready": "un nouveau QR code attend d'être scanné",
    "webhooks.event_session_restricted": (
        "WhatsApp restreint un numéro (bannissement temporaire, ou plus de nouveaux contacts)"
    ),
    "webhooks.event_session_unrestricted": "la restriction de WhatsApp sur un numéro prend fin",
    "webhooks.event_message_sent": (
        "un message est envoyé depuis le téléphone ou un autre lié appareil"
    ),
    "webhooks.event_message_reaction": "quelqu'un réagit à un message",
    "webhooks.event_message_edited": "un message est modifié",
    "webhooks.event_message_revoked": "un message est supprimé pour tout le monde",
    "webhooks.event_poll_vote": "quelqu'un vote dans un sondage",
    "webhooks.event_presence_update": "un contact se connecte, se déconnecte ou écrit",
    "webhooks.event_group_participants": (
        "des personnes rejoignent, quittent, sont ajoutées, promues "
        "retirées, ou rétrogradées dans un groupe"
    ),
    "webhooks.event_group_updated": "le sujet, la description ou les réglages d'un groupe changent",
    "webhooks.event_call_received": "quelqu'un appelle",
    # -- un webhook
    "webhook.title": "Webhook",
    "webhook.back": "← Webhooks",
    "webhook.send_test": "Envoyer un événement de test",
    "webhook.disable": "Désactiver",
    "webhook.enable": "Activer",
    "webhook.new_secret_title": "Nouveau secret de signature",
    "webhook.new_secret_once": (
        "Les envois sont signés avec lui dès maintenant : mettez-le dans votre récepteur."
    ),
    "webhook.settings": "Réglages",
    "webhook.secret": "Secret de signature",
    "webhook.secret_hidden": "whsec_…{hint}",
    "webhook.reveal": "Afficher",
    "webhook.secret_hint": (
        "Votre récepteur vérifie avec lui l'en-tête X-Sendmako-Signature de chaque envoi."
    ),
    "webhook.edit": "Modifier les réglages",
    "webhook.deliveries": "Envois",
    "webhook.deliveries_hint": (
        "Du plus récent au plus ancien, avec chaque tentative. Cette page affiche les "
        "nouveaux envois toute seule."
    ),
    "delivery.pending": "En attente",
    "delivery.succeeded": "Remis",
    "delivery.failed": "Échoué",
    "webhook.redeliver": "Renvoyer",
    "webhook.next_attempt": "Prochaine tentative {when}.",
    "webhook.http_status": "HTTP {code}",
    "webhook.no_answer": "Pas de réponse",
    "webhook.latency": "{ms} ms",
    "webhook.answer": "Les premiers octets de la réponse",
    "webhook.no_attempt": "Pas encore tenté.",
    "webhook.pages": "Pages du journal des envois",
    "webhook.newer": "← Plus récents",
    "webhook.older": "Plus anciens →",
    "webhook.page_of": "Page {page} sur {pages}",
    "webhook.no_deliveries": (
        "Aucun envoi pour l'instant. Envoyez un événement de test, ou faites bouger une session."
    ),
    "webhook.page_empty": "Rien sur cette page.",
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
        "à sable (scanner leur QR code, les délier, couper leur connexion) et le reste du "
        "monde : leur faire recevoir un message de tout type."
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
    "sandbox.inbound_title": "Recevoir un message",
    "sandbox.inbound_intro": (
        "Un message arrive sur cette session comme si quelqu'un écrivait à son numéro : il "
        "est enregistré et son webhook message.received part."
    ),
    "sandbox.from": "De (numéro de téléphone)",
    "sandbox.from_name": "Nom de l'expéditeur (facultatif)",
    "sandbox.from_name_placeholder": "Aminata Sow",
    "sandbox.group_id": "Groupe (facultatif)",
    "sandbox.group_placeholder": "120363025246125244@g.us",
    "sandbox.group_hint": "Le JID d'un groupe : le message est écrit dans ce groupe.",
    "sandbox.bad_group": "{field} : ce n'est pas le JID d'un groupe (il finit par @g.us).",
    "sandbox.type": "Type",
    "sandbox.text": "Texte, ou légende d'une image, d'une vidéo ou d'un document",
    "sandbox.media": "Fichier",
    "sandbox.media_hint": (
        "Jusqu'à 16 Mo pour une image, 50 Mo pour une vidéo, 15 Mo pour un audio, 70 Mo pour "
        "un document, 1 Mo pour un autocollant (WebP)."
    ),
    "sandbox.too_large": "{field} : plus de {size}, la limite pour ce type.",
    "sandbox.voice_note": "Message vocal (converti en OGG/Opus)",
    "sandbox.latitude": "Latitude",
    "sandbox.longitude": "Longitude",
    "sandbox.location_name": "Nom du lieu (facultatif)",
    "sandbox.location_address": "Adresse (facultative)",
    "sandbox.contact_name": "Nom du contact",
    "sandbox.contact_phone": "Numéro du contact",
    "sandbox.inbound_submit": "Recevoir ce message",
    "sandbox.received": "{session} : un message du +{phone} est arrivé.",
    "msgtype.text": "Texte",
    "msgtype.image": "Image",
    "msgtype.video": "Vidéo",
    "msgtype.audio": "Audio",
    "msgtype.document": "Document",
    "msgtype.location": "Position",
    "msgtype.sticker": "Autocollant",
    "msgtype.contact": "Contact",
    "msgtype.poll": "Sondage",
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
    # -- chats (the inbox of a session)
    "session.chats": "Discussions",
    "chats.title": "Discussions",
    "chats.list": "Discussions",
    "chats.search": "Rechercher un nom ou un numéro",
    "chats.search_go": "Rechercher",
    "chats.you": "Vous",
    "chats.deleted": "Supprimé",
    "chats.unread": "{count} non lus",
    "chats.none_found": "Aucune discussion ne correspond à cette recherche.",
    "chats.empty": "Pas encore de discussion : les messages envoyés et reçus apparaissent ici.",
    "chats.conversation": "Conversation",
    "chats.back": "Discussions",
    "chats.mark_read": "Marquer comme lu",
    "chats.older": "Messages plus anciens",
    "chats.edited": "Modifié",
    "chats.status.sent": "Envoyé",
    "chats.status.delivered": "Distribué",
    "chats.status.read": "Lu",
    "chats.status.received": "Reçu",
    "chats.actions": "Réagir ou répondre",
    "chats.react_with": "Réagir avec {emoji}",
    "chats.reaction": "Réaction",
    "chats.reply": "Répondre",
    "chats.replying": "En réponse à :",
    "chats.message": "Message",
    "chats.file": "Fichier",
    "chats.send": "Envoyer",
    "chats.pick": "Choisissez une discussion pour la lire.",
    "chats.no_messages": "Aucun message conservé dans cette discussion.",
    "chats.type.text": "Message",
    "chats.type.image": "Photo",
    "chats.type.video": "Vidéo",
    "chats.type.audio": "Audio",
    "chats.type.document": "Document",
    "chats.type.sticker": "Autocollant",
    "chats.type.location": "Position",
    "chats.type.contact": "Contact",
    "chats.type.poll": "Sondage",
    "chats.type.other": "Message",
}

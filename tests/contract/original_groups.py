"""The contacts and groups examples of the original Sendmako documentation, copied
verbatim (`../shared/reference/000_065c3dfed25d16a8.txt`, sections "Contacts" and
"Groupes", with the group message example of "Messages"). The page glued some field notes
to the start of a few curl commands (`["22241857975"])curl ...`); those notes are left
out. The placeholders below are what a test replaces with a real group and invite code."""

GROUP_PLACEHOLDER = "120363XXXXXXXXXX"  # the user part of 120363XXXXXXXXXX@g.us (or %40g.us)
INVITE_PLACEHOLDER = "AbCdEfGhIjKlMn"

CONTACTS_RESPONSE = {
    "success": True,
    "contacts": [
        {"id": "22241857975@s.whatsapp.net", "phone": "22241857975", "name": "Alassane Diallo"},
        {"id": "221781234567@s.whatsapp.net", "phone": "221781234567", "name": "Fatou Ndiaye"},
    ],
}


CONTACTS_CURL = r'''curl -X GET "https://sendmako.com/api/whatsapp/contacts/" \ -H "Authorization: Bearer wsa_votre_cle_api"'''

CONTACTS_PYTHON = """r = requests.get("https://sendmako.com/api/whatsapp/contacts/",
headers={"Authorization": "Bearer wsa_votre_cle_api"})
print(r.json())"""

LIST_CURL = r'''curl -X GET "https://sendmako.com/api/groups" \ -H "Authorization: Bearer wsa_votre_cle_api"'''

LIST_PYTHON = """r = requests.get("https://sendmako.com/api/groups",
headers={"Authorization": "Bearer wsa_votre_cle_api"})
print(r.json())"""

CREATE_CURL = r"""curl -X POST "https://sendmako.com/api/groups" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{"name":"Équipe Sendmako","participants":["22241857975","221781234567"]}'"""

CREATE_PYTHON = """r = requests.post("https://sendmako.com/api/groups",
headers={"Authorization": "Bearer wsa_votre_cle_api"},
json={"name": "Équipe Sendmako", "participants": ["22241857975", "221781234567"]})
print(r.json())"""

GROUP_MESSAGE_CURL = r"""curl -X POST "https://sendmako.com/api/send-message" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{"to":"120363XXXXXXXXXX@g.us","type":"text","text":"Bonjour le groupe!"}'"""

MENTIONS_CURL = r"""curl -X POST "https://sendmako.com/api/send-message" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{
"to": "120363XXXXXXXXXX@g.us",
"type": "text",
"text": "@22241857975 regarde ça !",
"mentions": ["22241857975"]
}'"""

METADATA_CURL = r'''curl "https://sendmako.com/api/groups/120363XXXXXXXXXX%40g.us/metadata" \ -H "Authorization: Bearer wsa_votre_cle_api"'''

METADATA_PYTHON = """r = requests.get("https://sendmako.com/api/groups/120363XXXXXXXXXX@g.us/metadata",
headers={"Authorization": "Bearer wsa_votre_cle_api"})
print(r.json())"""

PARTICIPANTS_CURL = r'''curl "https://sendmako.com/api/groups/120363XXXXXXXXXX%40g.us/participants" \ -H "Authorization: Bearer wsa_votre_cle_api"'''

PARTICIPANTS_PYTHON = """r = requests.get("https://sendmako.com/api/groups/120363XXXXXXXXXX@g.us/participants",
headers={"Authorization": "Bearer wsa_votre_cle_api"})
print(r.json())"""

ADD_CURL = r"""curl -X POST "https://sendmako.com/api/groups/120363XXXXXXXXXX%40g.us/participants/add" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{"participants":["22241857975"]}'"""

ADD_PYTHON = """r = requests.post(
"https://sendmako.com/api/groups/120363XXXXXXXXXX@g.us/participants/add",
headers={"Authorization": "Bearer wsa_votre_cle_api"},
json={"participants": ["22241857975"]})
print(r.json())"""

REMOVE_CURL = r"""curl -X POST "https://sendmako.com/api/groups/120363XXXXXXXXXX%40g.us/participants/remove" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{"participants":["221781234567"]}'"""

REMOVE_PYTHON = """r = requests.post(
"https://sendmako.com/api/groups/120363XXXXXXXXXX@g.us/participants/remove",
headers={"Authorization": "Bearer wsa_votre_cle_api"},
json={"participants": ["221781234567"]})
print(r.json())"""

UPDATE_CURL = r"""curl -X PUT "https://sendmako.com/api/groups/120363XXXXXXXXXX%40g.us/participants/update" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{"participants":["221781234567"],"action":"promote"}'"""

UPDATE_PYTHON = """r = requests.put(
"https://sendmako.com/api/groups/120363XXXXXXXXXX@g.us/participants/update",
headers={"Authorization": "Bearer wsa_votre_cle_api"},
json={"participants": ["221781234567"], "action": "promote"})
print(r.json())"""

SETTINGS_CURL = r"""curl -X PUT "https://sendmako.com/api/groups/120363XXXXXXXXXX%40g.us/settings" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{"subject":"Nouveau nom","announce":true}'"""

SETTINGS_PYTHON = """r = requests.put(
"https://sendmako.com/api/groups/120363XXXXXXXXXX@g.us/settings",
headers={"Authorization": "Bearer wsa_votre_cle_api"},
json={"subject": "Nouveau nom", "announce": True})
print(r.json())"""

INVITE_LINK_CURL = r'''curl "https://sendmako.com/api/groups/120363XXXXXXXXXX%40g.us/invite-link" \ -H "Authorization: Bearer wsa_votre_cle_api"'''

INVITE_LINK_PYTHON = """r = requests.get("https://sendmako.com/api/groups/120363XXXXXXXXXX@g.us/invite-link",
headers={"Authorization": "Bearer wsa_votre_cle_api"})
print(r.json())"""

INVITE_INFO_CURL = r'''curl "https://sendmako.com/api/groups/invite/AbCdEfGhIjKlMn" \ -H "Authorization: Bearer wsa_votre_cle_api"'''

INVITE_INFO_PYTHON = """r = requests.get("https://sendmako.com/api/groups/invite/AbCdEfGhIjKlMn",
headers={"Authorization": "Bearer wsa_votre_cle_api"})
print(r.json())"""

ACCEPT_CURL = r"""curl -X POST "https://sendmako.com/api/groups/invite/accept" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{"inviteCode":"AbCdEfGhIjKlMn"}'"""

ACCEPT_PYTHON = """r = requests.post("https://sendmako.com/api/groups/invite/accept",
headers={"Authorization": "Bearer wsa_votre_cle_api"},
json={"inviteCode": "AbCdEfGhIjKlMn"})
print(r.json())"""

PICTURE_CURL = r'''curl "https://sendmako.com/api/groups/120363XXXXXXXXXX%40g.us/picture" \ -H "Authorization: Bearer wsa_votre_cle_api"'''

PICTURE_PYTHON = """r = requests.get("https://sendmako.com/api/groups/120363XXXXXXXXXX@g.us/picture",
headers={"Authorization": "Bearer wsa_votre_cle_api"})
print(r.json())"""

LEAVE_CURL = r"""curl -X POST "https://sendmako.com/api/groups/120363XXXXXXXXXX%40g.us/leave" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{}'"""

LEAVE_PYTHON = """r = requests.post("https://sendmako.com/api/groups/120363XXXXXXXXXX@g.us/leave",
headers={"Authorization": "Bearer wsa_votre_cle_api"})
print(r.json())"""

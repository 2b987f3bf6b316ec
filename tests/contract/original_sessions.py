"""The session examples of the original Sendmako documentation, copied verbatim
(`../shared/reference/000_065c3dfed25d16a8.txt`, section "Sessions"). The page flattened
curl's line continuations into `\\ `; `live.py` restores them before running."""

BASE_URL = "https://sendmako.com"
KEY = "wsa_votre_cle_api"

LIST_CURL = r'''curl -X GET "https://sendmako.com/api/whatsapp/sessions/" \ -H "Authorization: Bearer wsa_votre_cle_api"'''
LIST_PYTHON = """import requests
r = requests.get(
"https://sendmako.com/api/whatsapp/sessions/",
headers={"Authorization": "Bearer wsa_votre_cle_api"}
)
print(r.json())"""

CREATE_CURL = r"""curl -X POST "https://sendmako.com/api/whatsapp/sessions/" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{"session_name": "Professionnel"}' """
CREATE_PYTHON = """r = requests.post(
"https://sendmako.com/api/whatsapp/sessions/",
headers={"Authorization": "Bearer wsa_votre_cle_api"},
json={"session_name": "Professionnel"}
)
print(r.json())"""

STATUS_CURL = r'''curl -X GET "https://sendmako.com/api/whatsapp/sessions/user_1/" \ -H "Authorization: Bearer wsa_votre_cle_api"'''
STATUS_PYTHON = """r = requests.get(
"https://sendmako.com/api/whatsapp/sessions/user_1/",
headers={"Authorization": "Bearer wsa_votre_cle_api"}
)
print(r.json())"""

RENAME_CURL = r"""curl -X PATCH "https://sendmako.com/api/whatsapp/sessions/user_1/" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{"session_name": "Ma ligne pro"}' """
RENAME_PYTHON = """r = requests.patch(
"https://sendmako.com/api/whatsapp/sessions/user_1/",
headers={"Authorization": "Bearer wsa_votre_cle_api"},
json={"session_name": "Ma ligne pro"}
)"""

DELETE_CURL = r'''curl -X DELETE "https://sendmako.com/api/whatsapp/sessions/user_1/" \ -H "Authorization: Bearer wsa_votre_cle_api"'''
DELETE_PYTHON = """requests.delete("https://sendmako.com/api/whatsapp/sessions/user_1/",
headers={"Authorization": "Bearer wsa_votre_cle_api"})"""

"""The send examples of the original Sendmako documentation ("Messages": text, image,
video, audio, document, location, bulk), copied verbatim (`../shared/reference/
000_065c3dfed25d16a8.txt`). Only the rendering artefact before each first curl command
(the tab's label, "textcurl") is left out. The group and mentions examples are replayed
with the groups (tests/contract/test_original_groups.py)."""

TEXT_CURL = r"""curl -X POST "https://sendmako.com/api/send-message" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{
"to": "22241857975",
"type": "text",
"text": "Bonjour depuis Sendmako !"
}' """
TEXT_PYTHON = """import requests
r = requests.post(
"https://sendmako.com/api/send-message",
headers={"Authorization": "Bearer wsa_votre_cle_api"},
json={"to": "22241857975", "type": "text", "text": "Bonjour depuis Sendmako !"}
)
print(r.json())"""

IMAGE_CURL = r"""curl -X POST "https://sendmako.com/api/send-message" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{
"to": "22241857975",
"type": "image",
"imageUrl": "https://example.com/photo.jpg",
"caption": "Regardez ça !"
}' """
IMAGE_PYTHON = """r = requests.post(
"https://sendmako.com/api/send-message",
headers={"Authorization": "Bearer wsa_votre_cle_api"},
json={
"to": "22241857975", "type": "image",
"imageUrl": "https://example.com/photo.jpg",
"caption": "Regardez ça !"
}
)"""

VIDEO_CURL = r"""curl -X POST "https://sendmako.com/api/send-message" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{"to":"22241857975","type":"video","videoUrl":"https://example.com/clip.mp4","caption":"Regardez !"}' """
VIDEO_PYTHON = """r = requests.post("https://sendmako.com/api/send-message",
headers={"Authorization":"Bearer wsa_votre_cle_api"},
json={"to":"22241857975","type":"video","videoUrl":"https://example.com/clip.mp4"})"""

AUDIO_CURL = r"""curl -X POST "https://sendmako.com/api/send-message" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{"to":"22241857975","type":"audio","audioUrl":"https://example.com/audio.mp3","voiceNote":false}' """
AUDIO_PYTHON = """r = requests.post("https://sendmako.com/api/send-message",
headers={"Authorization":"Bearer wsa_votre_cle_api"},
json={"to":"22241857975","type":"audio","audioUrl":"https://example.com/audio.mp3","voiceNote":False})"""

DOCUMENT_CURL = r"""curl -X POST "https://sendmako.com/api/send-message" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{
"to": "22241857975",
"type": "document",
"documentUrl": "https://example.com/facture.pdf",
"filename": "facture.pdf",
"mimetype": "application/pdf"
}' """
DOCUMENT_PYTHON = """r = requests.post("https://sendmako.com/api/send-message",
headers={"Authorization":"Bearer wsa_votre_cle_api"},
json={"to":"22241857975","type":"document",
"documentUrl":"https://example.com/facture.pdf",
"filename":"facture.pdf","mimetype":"application/pdf"})"""

LOCATION_CURL = r"""curl -X POST "https://sendmako.com/api/send-message" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{"to":"22241857975","type":"location","latitude":14.6928,"longitude":-17.4467}' """
LOCATION_PYTHON = """r = requests.post("https://sendmako.com/api/send-message",
headers={"Authorization":"Bearer wsa_votre_cle_api"},
json={"to":"22241857975","type":"location","latitude":14.6928,"longitude":-17.4467})"""

BULK_CURL = r"""curl -X POST "https://sendmako.com/api/send-bulk" \
-H "Authorization: Bearer wsa_votre_cle_api" \
-H "Content-Type: application/json" \
-d '{
"recipients": ["22241857975", "221781234567", "237691234567"],
"type": "text",
"text": "Bonjour à tous !"
}' """
BULK_PYTHON = """r = requests.post(
"https://sendmako.com/api/send-bulk",
headers={"Authorization": "Bearer wsa_votre_cle_api"},
json={
"recipients": ["22241857975", "221781234567", "237691234567"],
"type": "text",
"text": "Bonjour à tous !"
}
)
print(r.json())"""

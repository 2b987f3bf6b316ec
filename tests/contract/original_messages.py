"""The send examples of the original Sendmako documentation ("Messages": text, image,
video, audio, document, location, bulk), copied verbatim (`../shared/reference/
000_065c3dfed25d16a8.txt`): curl, Python and JavaScript. Only the rendering artefact before
each first curl command (the tab's label, "textcurl") is left out. The PHP versions are not
here: the page keeps only a fragment of the text one and, for the others, the `$data` array
with "same curl configuration as the text example"; nothing of them runs as written. The group and mentions examples are replayed
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


TEXT_JAVASCRIPT = """const r = await fetch("https://sendmako.com/api/send-message", {
method: "POST",
headers: {
"Authorization": "Bearer wsa_votre_cle_api",
"Content-Type": "application/json"
},
body: JSON.stringify({
to: "22241857975",
type: "text",
text: "Bonjour depuis Sendmako !"
})
});
console.log(await r.json());"""

IMAGE_JAVASCRIPT = """await fetch("https://sendmako.com/api/send-message", {
method: "POST",
headers: {"Authorization":"Bearer wsa_votre_cle_api","Content-Type":"application/json"},
body: JSON.stringify({
to: "22241857975", type: "image",
imageUrl: "https://example.com/photo.jpg",
caption: "Regardez ça !"
})
});"""

VIDEO_JAVASCRIPT = """await fetch("https://sendmako.com/api/send-message",{method:"POST",
headers:{"Authorization":"Bearer wsa_votre_cle_api","Content-Type":"application/json"},
body:JSON.stringify({to:"22241857975",type:"video",videoUrl:"https://example.com/clip.mp4"})});"""

AUDIO_JAVASCRIPT = """await fetch("https://sendmako.com/api/send-message",{method:"POST",
headers:{"Authorization":"Bearer wsa_votre_cle_api","Content-Type":"application/json"},
body:JSON.stringify({to:"22241857975",type:"audio",audioUrl:"https://example.com/audio.mp3",voiceNote:false})});"""

DOCUMENT_JAVASCRIPT = """await fetch("https://sendmako.com/api/send-message",{method:"POST",
headers:{"Authorization":"Bearer wsa_votre_cle_api","Content-Type":"application/json"},
body:JSON.stringify({to:"22241857975",type:"document",
documentUrl:"https://example.com/facture.pdf",
filename:"facture.pdf",mimetype:"application/pdf"})});"""

LOCATION_JAVASCRIPT = """await fetch("https://sendmako.com/api/send-message",{method:"POST",
headers:{"Authorization":"Bearer wsa_votre_cle_api","Content-Type":"application/json"},
body:JSON.stringify({to:"22241857975",type:"location",latitude:14.6928,longitude:-17.4467})});"""

BULK_JAVASCRIPT = """const r = await fetch("https://sendmako.com/api/send-bulk", {
method: "POST",
headers: {"Authorization":"Bearer wsa_votre_cle_api","Content-Type":"application/json"},
body: JSON.stringify({
recipients: ["22241857975","221781234567","237691234567"],
type: "text",
text: "Bonjour à tous !"
})
});
console.log(await r.json());"""

"""Media: downloading (fetch), WhatsApp encryption (crypto), audio and image handling."""

"""The dashboard's catalogues, one module per language."""

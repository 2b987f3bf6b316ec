"""Everything that touches the database. Routes and services never build SQL themselves."""

"""Modal dialogs: a glossary definition, the step picker, the damaged-database question."""

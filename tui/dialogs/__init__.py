"""The modal dialogs of the terminal UI: forms, confirmations, help and the command bar."""

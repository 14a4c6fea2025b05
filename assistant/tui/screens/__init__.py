"""Screens of the chat app: the chat itself, help, the note viewer and the file picker."""

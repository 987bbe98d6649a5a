"""Processes forked from one warm template that already holds torch (see ``template``)."""

"""Webhook endpoints: register, list, show, delete, and read an endpoint's delivery log."""

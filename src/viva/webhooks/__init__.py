"""Webhook endpoints, Standard Webhooks signing, and durable delivery with retries."""

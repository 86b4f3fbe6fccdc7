"""Every request this server makes to a URL a caller gave it: webhooks, callbacks and images.

One policy for all of them (``guard``): http(s) only, and public addresses only unless the
``allow_private_urls`` setting says otherwise, checked when a URL is submitted and again on
the resolved address when connecting. ``fetch`` downloads a caller's image under that policy.
"""

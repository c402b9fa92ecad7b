"""Security headers of the web pages: a content security policy with no inline script or
style (GOV.UK Frontend is served from our static folder and started from a static file),
framing refused, and the rest of what a scanner expects."""

from __future__ import annotations

from flask import Response

WEB_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def web_security_headers(response: Response, *, https: bool) -> Response:
    """Set here, in the blueprint's after_request, which runs before the app-wide hook of
    `shared/http.py`; that hook only fills in headers still missing (setdefault)."""
    headers = response.headers
    # A receipt answers with its own stricter policy (sandboxed): keep it.
    if "sandbox" not in headers.get("Content-Security-Policy", ""):
        headers["Content-Security-Policy"] = WEB_CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        headers["Cache-Control"] = "no-store"
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response

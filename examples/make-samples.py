#!/usr/bin/env python3
"""Regenerates the demo's sample reports (examples/reports/*.eml) with GnuPG.

TEST DATA ONLY. The team key in keys/test/ is public knowledge: never use it
for a real mailbox. Reporter keys are made fresh in a throw-away GNUPGHOME on
every run; only their public halves travel inside the samples.

    python3 examples/make-samples.py        # needs gpg 2.2+

The team key is created on first run (keys/test/team-secret.asc, protected by
the passphrase in keys/test/passphrase) and reused afterwards, so committed
samples stay decryptable.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from email.utils import formatdate, make_msgid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYS = os.path.join(ROOT, "keys", "test")
OUT = os.path.join(ROOT, "examples", "reports")
TEAM_UID = "triaged TEST team key - DO NOT USE <security@example.test>"
PASS_FILE = os.path.join(KEYS, "passphrase")

home = tempfile.mkdtemp(prefix="triaged-gpg-")
ENV = dict(os.environ, GNUPGHOME=home)


def gpg(*args, data=None, check=True):
    cmd = ["gpg", "--batch", "--yes", "--quiet", "--pinentry-mode", "loopback",
           "--trust-model", "always", *args]
    p = subprocess.run(cmd, input=data, env=ENV, capture_output=True)
    if check and p.returncode != 0:
        sys.exit(f"gpg {' '.join(args)} failed: {p.stderr.decode()}")
    return p.stdout


def gen(uid, algo="ed25519", enc="cv25519", passphrase=""):
    gpg("--passphrase", passphrase, "--quick-gen-key", uid, algo, "sign", "never")
    fpr = fingerprint(uid)
    gpg("--passphrase", passphrase, "--quick-add-key", fpr, enc, "encr", "never")
    return fpr


def fingerprint(uid):
    out = gpg("--with-colons", "--list-keys", uid).decode()
    for line in out.splitlines():
        if line.startswith("fpr:"):
            return line.split(":")[9]
    sys.exit(f"no fingerprint for {uid}")


def team_key():
    os.makedirs(KEYS, exist_ok=True)
    sec = os.path.join(KEYS, "team-secret.asc")
    if not os.path.exists(PASS_FILE):
        with open(PASS_FILE, "w") as f:
            f.write("test-passphrase-do-not-use\n")
    passphrase = open(PASS_FILE).read().strip()
    if os.path.exists(sec):
        gpg("--passphrase", passphrase, "--import", sec)
        return fingerprint("security@example.test")
    fpr = gen(TEAM_UID, passphrase=passphrase)
    with open(sec, "wb") as f:
        f.write(gpg("--passphrase", passphrase, "--armor", "--export-secret-keys", fpr))
    with open(os.path.join(KEYS, "team-public.asc"), "wb") as f:
        f.write(gpg("--armor", "--export", fpr))
    return fpr


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def headers(frm, subject, to="security@example.test", extra=()):
    h = [f"From: {frm}", f"To: {to}", f"Subject: {subject}",
         f"Date: {formatdate(localtime=False)}",
         f"Message-ID: {make_msgid(domain=frm.split('@')[1].rstrip('>'))}",
         "MIME-Version: 1.0", *extra]
    return h


def pgp_mime(hdrs, inner, recipients, sign_as=None, throw_keyids=False):
    args = ["--armor", "--encrypt"]
    for r in recipients:
        args += ["-r", r]
    if sign_as:
        args += ["--sign", "-u", sign_as]
    if throw_keyids:
        args += ["--throw-keyids"]
    ct = gpg(*args, data=crlf(inner).encode()).decode()
    b = "enc-" + os.urandom(6).hex()
    body = (
        f'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="{b}"\n\n'
        "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n"
        f"--{b}\nContent-Type: application/pgp-encrypted\nContent-Description: PGP/MIME version identification\n\nVersion: 1\n\n"
        f'--{b}\nContent-Type: application/octet-stream; name="encrypted.asc"\n'
        'Content-Description: OpenPGP encrypted message\nContent-Disposition: inline; filename="encrypted.asc"\n\n'
        f"{ct}\n--{b}--\n"
    )
    return crlf("\n".join(hdrs) + "\n" + body)


def inline(hdrs, text, recipients, sign_as=None):
    args = ["--armor", "--encrypt"]
    for r in recipients:
        args += ["-r", r]
    if sign_as:
        args += ["--sign", "-u", sign_as]
    ct = gpg(*args, data=text.encode()).decode()
    return crlf("\n".join(hdrs) + "\nContent-Type: text/plain; charset=utf-8\n\n" + ct)


def autocrypt(addr, fpr):
    import base64
    key = gpg("--export", "--export-options", "export-minimal", fpr)
    data = base64.b64encode(key).decode()
    folded = "\n ".join(data[i:i + 72] for i in range(0, len(data), 72))
    return f"Autocrypt: addr={addr}; prefer-encrypt=mutual; keydata=\n {folded}"


def write(name, text):
    with open(os.path.join(OUT, name), "w", newline="") as f:
        f.write(text)
    print("wrote", name)


def main():
    os.makedirs(OUT, exist_ok=True)
    team = team_key()
    alice = gen("Alice Reporter <alice@example.net>")
    bob = gen("Bob Researcher <bob@example.org>", algo="rsa3072", enc="rsa3072")
    carol = gen("Carol Unknown <carol@example.com>")
    dave = gen("Dave Autocrypt <dave@example.io>")
    other = gen("Some Other Project <security@other.example>")

    # 01: PGP/MIME, encrypted only, protected headers.
    h = headers("Alice Reporter <alice@example.net>", "...")
    first_id = [x for x in h if x.startswith("Message-ID")][0].split(": ", 1)[1]
    inner = (
        'Content-Type: multipart/mixed; boundary="inner1"; protected-headers="v1"\n'
        "Subject: SQL injection in /api/login (acme-web <= 2.4.1)\n\n"
        "--inner1\nContent-Type: text/plain; charset=utf-8\n\n"
        "Hello security team,\n\n"
        "I found a SQL injection in the login endpoint of acme-web. Affected versions:\n"
        "2.3.0 through 2.4.1 (latest release). An unauthenticated attacker can dump the\n"
        "users table, including password hashes.\n\n"
        "Steps to reproduce:\n"
        "1. Start acme-web 2.4.1 with the default config.\n"
        "2. Run:\n\n"
        "    curl -s -X POST http://localhost:8080/api/login \\\n"
        "      -d \"username=admin' OR '1'='1' -- &password=x\"\n\n"
        "3. The response contains a session token for the admin user.\n\n"
        "Impact: authentication bypass and full database read (CWE-89).\n"
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N\n\n"
        "Suggested fix: use parameterised queries in src/auth/login.rs.\n\n"
        "Please credit me as Alice Reporter.\n"
        "--inner1--\n"
    )
    write("01-pgp-mime-sqli.eml", pgp_mime(h, inner, [team]))

    # 02: PGP/MIME, signed and encrypted by Bob (RSA-3072), his key attached inside.
    bob_pub = gpg("--armor", "--export", bob).decode()
    inner = (
        'Content-Type: multipart/mixed; boundary="inner2"; protected-headers="v1"\n'
        "Subject: Stored XSS in the comment preview\n\n"
        "--inner2\nContent-Type: text/plain; charset=utf-8\n\n"
        "Hi,\n\nThe markdown preview renders raw HTML. Posting a comment with\n\n"
        "    <img src=x onerror=alert(document.cookie)>\n\n"
        "executes script in every visitor's browser. Tested on acme-web 2.4.0.\n"
        "Impact: session theft for any logged-in user who views the page.\n\n-- Bob\n"
        "--inner2\nContent-Type: application/pgp-keys; name=\"bob.asc\"\n"
        "Content-Disposition: attachment; filename=\"bob.asc\"\n\n"
        f"{bob_pub}\n--inner2--\n"
    )
    h = headers("Bob Researcher <bob@example.org>", "Encrypted Message")
    write("02-pgp-mime-signed-xss.eml", pgp_mime(h, inner, [team], sign_as=bob))

    # 03: inline ASCII-armored, encrypted only.
    text = (
        "Hello,\n\nThe static file handler of acme-web 2.3.x resolves ../ sequences.\n"
        "GET /static/..%2f..%2f..%2fetc%2fpasswd HTTP/1.1\nHost: localhost\n\n"
        "returns /etc/passwd. Impact: arbitrary file read as the service user.\n\nAlice\n"
    )
    h = headers("Alice Reporter <alice@example.net>", "Path traversal in static files")
    write("03-inline-path-traversal.eml", inline(h, text, [team]))

    # 04: inline, signed and encrypted by Dave; his key arrives in the Autocrypt header.
    text = (
        "Hi team,\n\nacme-web's webhook tester fetches any URL server-side, including\n"
        "http://169.254.169.254/latest/meta-data/ (cloud metadata). Versions before 2.4.2.\n"
        "Impact: SSRF, cloud credential theft.\n\nDave\n"
    )
    h = headers("Dave Autocrypt <dave@example.io>", "SSRF in webhook tester",
                extra=[autocrypt("dave@example.io", dave)])
    write("04-inline-signed-autocrypt-ssrf.eml", inline(h, text, [team], sign_as=dave))

    # 05: plaintext body, encrypted attachment poc.py.asc.
    poc = (
        "#!/usr/bin/env python3\n# PoC: denial of service via deeply nested JSON\n"
        "import requests\npayload = '[' * 100000 + ']' * 100000\n"
        "requests.post('http://localhost:8080/api/import', data=payload)\n"
    )
    enc = gpg("--armor", "--encrypt", "-r", team, data=poc.encode()).decode()
    b = "mix-" + os.urandom(6).hex()
    h = headers("Alice Reporter <alice@example.net>", "DoS in JSON import (PoC attached, encrypted)")
    body = (
        f'Content-Type: multipart/mixed; boundary="{b}"\n\n--{b}\n'
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Hello, the import endpoint recurses without a depth limit and crashes the worker.\n"
        "All versions up to 2.4.1 are affected. The encrypted PoC is attached.\n\n"
        f'--{b}\nContent-Type: application/pgp-encrypted; name="poc.py.asc"\n'
        'Content-Disposition: attachment; filename="poc.py.asc"\n\n'
        f"{enc}\n--{b}--\n"
    )
    write("05-encrypted-attachment-dos.eml", crlf("\n".join(h) + "\n" + body))

    # 06: plaintext report, no crypto at all.
    h = headers("Frank Plain <frank@example.com>", "Open redirect on /logout")
    body = (
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Hi,\n\nhttps://acme.example/logout?next=https://evil.example redirects off-site\n"
        "without validation (acme-web 2.4.1). Impact: phishing via a trusted domain.\n\nFrank\n"
    )
    write("06-plaintext-open-redirect.eml", crlf("\n".join(h) + "\n" + body))

    # 07: encrypted to another project's key: must end undecryptable.
    h = headers("Carol Unknown <carol@example.com>", "Report")
    inner = "Content-Type: text/plain\n\nThis was encrypted to the wrong key.\n"
    write("07-wrong-key-undecryptable.eml", pgp_mime(h, inner, [other]))

    # 08: signed by a key nobody knows (no key attached): unknown-key.
    h = headers("Carol Unknown <carol@example.com>", "...")
    inner = (
        'Content-Type: text/plain; charset=utf-8; protected-headers="v1"\n'
        "Subject: Auth bypass with an empty JWT signature\n\n"
        "The API accepts tokens with alg=none. Affects acme-api 1.2.0 through 1.4.3.\n"
        "Impact: any user can impersonate an admin.\n"
    )
    write("08-signed-unknown-key-jwt.eml", pgp_mime(h, inner, [team], sign_as=carol))

    # 09: clear-signed plaintext by Alice, her key attached.
    signed = gpg("--clearsign", "-u", alice, data=(
        "Hello again,\n\nA follow-up finding: the password reset token is the MD5 of the\n"
        "user id, so tokens are predictable. acme-web 2.4.1. CWE-640.\n").encode()).decode()
    alice_pub = gpg("--armor", "--export", alice).decode()
    b = "cs-" + os.urandom(6).hex()
    h = headers("Alice Reporter <alice@example.net>", "Predictable password reset tokens")
    body = (
        f'Content-Type: multipart/mixed; boundary="{b}"\n\n--{b}\n'
        "Content-Type: text/plain; charset=utf-8\n\n"
        f"{signed}\n--{b}\n"
        'Content-Type: application/pgp-keys; name="alice.asc"\n'
        'Content-Disposition: attachment; filename="alice.asc"\n\n'
        f"{alice_pub}\n--{b}--\n"
    )
    write("09-clearsigned-reset-token.eml", crlf("\n".join(h) + "\n" + body))

    # 10: a follow-up to 01, threaded by In-Reply-To.
    h = headers("Alice Reporter <alice@example.net>", "...",
                extra=[f"In-Reply-To: {first_id}", f"References: {first_id}"])
    inner = (
        'Content-Type: text/plain; charset=utf-8; protected-headers="v1"\n'
        "Subject: Re: SQL injection in /api/login\n\n"
        "One more detail: 2.2.x is affected as well.\n"
    )
    write("10-followup-in-reply-to.eml", pgp_mime(h, inner, [team]))

    # 11: hidden recipient (--throw-keyids), security@ only in Bcc.
    h = headers("Bob Researcher <bob@example.org>", "...", to="undisclosed-recipients:;")
    inner = (
        'Content-Type: text/plain; charset=utf-8; protected-headers="v1"\n'
        "Subject: Hidden-recipient report: IDOR on /api/invoices/{id}\n\n"
        "Any logged-in user can read other customers' invoices by changing the id:\n"
        "GET /api/invoices/1002 HTTP/1.1\nAuthorization: Bearer <token of user 1001>\n\n"
        "Affected: acme-web >= 2.0. Impact: information disclosure of billing data.\n"
    )
    write("11-hidden-recipient-idor.eml", pgp_mime(h, inner, [team], throw_keyids=True))

    # 12: a low-effort, beg-bounty plaintext mail.
    h = headers("Bounty Hunter <hunter@example.com>", "Critical vulnerability found!!!")
    body = (
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Dear team, I found a critical vulnerability in your website: your domain is missing\n"
        "a DMARC record and the X-Frame-Options header. Please tell me the bounty amount\n"
        "before I share the details.\n"
    )
    write("12-plaintext-beg-bounty.eml", crlf("\n".join(h) + "\n" + body))

    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=ENV)
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()

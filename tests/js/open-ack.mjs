// The reporter's side of an ack, in OpenPGP.js (the library of Proton Mail's web
// client, Mailvelope and FlowCrypt): decrypts the PGP/MIME payload of an ack with the
// reporter's secret key and verifies the team's signature over it. Prints JSON:
// {"packets": [...], "text": "...", "verified": ["<key id>", ...], "errors": [...]}.
//   node open-ack.mjs OPENPGP_MODULE ACK.eml REPORTER-SECRET.asc TEAM-PUBLIC.asc
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

const [module, ackPath, secretPath, teamPath] = process.argv.slice(2);
const openpgp = await import(pathToFileURL(module).href);
const raw = fs.readFileSync(ackPath, 'utf8');
const begin = raw.indexOf('-----BEGIN PGP MESSAGE-----');
const end = raw.indexOf('-----END PGP MESSAGE-----');
if (begin < 0 || end < 0) {
  console.log(JSON.stringify({ errors: ['no armored message in the ack'] }));
  process.exit(1);
}
const armored = raw.slice(begin, end + 25).replace(/\r\n/g, '\n');
const key = await openpgp.readPrivateKey({ armoredKey: fs.readFileSync(secretPath, 'utf8') });
const team = await openpgp.readKey({ armoredKey: fs.readFileSync(teamPath, 'utf8') });
const message = await openpgp.readMessage({ armoredMessage: armored });
const packets = message.packets.map((p) => `${p.constructor.tag}v${p.version ?? ''}`);
const { data, signatures } = await openpgp.decrypt({ message, decryptionKeys: key, verificationKeys: team });
const verified = [];
const errors = [];
for (const s of signatures) {
  try {
    await s.verified;
    verified.push(s.keyID.toHex());
  } catch (e) {
    errors.push(String(e.message));
  }
}
console.log(JSON.stringify({ packets, text: data, verified, errors }));

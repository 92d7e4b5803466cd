// The reporter's side of a report, in OpenPGP.js with its default configuration (the
// library of Proton Mail's web client, Mailvelope and FlowCrypt): signs a text with the
// reporter's secret key and encrypts it to the team's public key, choosing the cipher
// suite from the team key as any sender does (RFC 9580 SEIPDv2 with OCB when the key
// advertises SEIPDv2). Prints JSON:
// {"armored": "-----BEGIN PGP MESSAGE-----...", "packets": ["1v6", "18v2"],
//  "aead": "ocb" | null, "reporter_public": "-----BEGIN PGP PUBLIC KEY BLOCK-----..."}
//   node encrypt-report.mjs OPENPGP_MODULE TEAM-PUBLIC.asc REPORTER-SECRET.asc TEXT-FILE [CHUNK-SIZE-BYTE]
// (CHUNK-SIZE-BYTE: OpenPGP.js's aeadChunkSizeByte, chunks of 2^(6+n) octets; default 12.)
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

const [module, teamPath, secretPath, textPath, chunkByte] = process.argv.slice(2);
const openpgp = await import(pathToFileURL(module).href);
const team = await openpgp.readKey({ armoredKey: fs.readFileSync(teamPath, 'utf8') });
const reporter = await openpgp.readPrivateKey({ armoredKey: fs.readFileSync(secretPath, 'utf8') });
const text = fs.readFileSync(textPath, 'utf8');
const armored = await openpgp.encrypt({
  message: await openpgp.createMessage({ text }),
  encryptionKeys: team,
  signingKeys: reporter,
  ...(chunkByte === undefined ? {} : { config: { aeadChunkSizeByte: Number(chunkByte) } }),
});
const message = await openpgp.readMessage({ armoredMessage: armored });
const packets = message.packets.map((p) => `${p.constructor.tag}v${p.version ?? ''}`);
const seipd = message.packets.find((p) => p.constructor.tag === 18);
const aead = seipd && seipd.version === 2 ? openpgp.enums.read(openpgp.enums.aead, seipd.aeadAlgorithm) : null;
console.log(JSON.stringify({ armored, packets, aead, reporter_public: reporter.toPublic().armor() }));

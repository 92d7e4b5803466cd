//! RFC 9580 encrypted data (SEIPD version 2) with OCB, when the OpenPGP backend
//! cannot decrypt OCB itself.
//!
//! OCB is the AEAD mode every RFC 9580 implementation must support, and the one
//! Delta Chat (rPGP), OpenPGP.js and sq choose when the recipient's key advertises
//! "SEIPDv2" (every key Sequoia 2, `sq` 1.x or rPGP makes does). sequoia's nettle
//! backend can do OCB only from nettle 3.9; Debian 12 has 3.8, so such a report was an
//! `undecryptable` case ("Unsupported AEAD algorithm: OCB"). Here the session key is
//! opened by the usual [`Helper`] (the team's keys, the same PKESK limits), the packet's
//! chunks are decrypted and authenticated with OpenSSL's AES-OCB (the library already
//! linked for RSA), and the plaintext packets (literal data, compression, signatures)
//! are read by sequoia's ordinary `Verifier`, so signatures are judged exactly as in a
//! message sequoia decrypts itself. The ciphertext is read as a stream: at most one
//! chunk (≤ 4 MiB, RFC 9580 §5.13.2) is held, and a chunk's plaintext is released only
//! after its tag is checked; the final tag (over the total length) is checked before the
//! end of the plaintext is reported, so a truncated or reordered message is an error.
//!
//! Used only when `AEADAlgorithm::OCB.is_supported()` is false; a backend that can do
//! OCB decrypts such messages itself and this code never runs.

use std::io::Read;

use anyhow::{Context, Result, anyhow};
use sequoia_openpgp as openpgp;

use openpgp::crypto::SessionKey;
use openpgp::packet::SEIP;
use openpgp::parse::stream::{DecryptionHelper, VerifierBuilder};
use openpgp::parse::{PacketParserBuilder, PacketParserResult, Parse};
use openpgp::types::{AEADAlgorithm, SymmetricAlgorithm};
use openpgp::{Cert, Packet};

use super::open::STREAM_BUFFER;
use super::*;

/// OCB's tag and nonce sizes in OpenPGP (RFC 9580 §9.6: 16-octet tag, 15-octet nonce).
const TAG: usize = 16;
const NONCE: usize = 15;
/// The largest chunk RFC 9580 allows (chunk size octet 16: 2^22 octets).
const MAX_CHUNK: u64 = 1 << 22;

/// What opening a message this way gave: the plaintext as `consume` returned it, and
/// what the helpers learnt (as in [`Decrypted`]).
pub(super) struct Opened<T> {
    pub(super) value: T,
    pub(super) signatures: Vec<SigResult>,
    pub(super) team_key: Option<String>,
    pub(super) session_key_hash: Option<String>,
}

/// Whether this build needs [`open`] for OCB: the backend cannot do it, OpenSSL can.
pub(crate) fn needed() -> bool {
    !AEADAlgorithm::OCB.is_supported()
}

/// Opens `src` (an OpenPGP message, armored or binary) if its encrypted data is a
/// SEIPDv2 packet with OCB and the backend cannot decrypt it; `Ok(None)` for any other
/// message (the caller keeps its own error). `consume` reads the plaintext.
pub(super) fn open<T, R: Read + Send + Sync>(
    team: &TeamKeys,
    extra: &[Cert],
    src: R,
    max_pkesks: usize,
    consume: impl FnOnce(&mut dyn Read) -> Result<T>,
) -> Result<Option<Opened<T>>> {
    if !needed() {
        return Ok(None);
    }
    let mut ppr = PacketParserBuilder::from_reader(src)
        .context("not an OpenPGP message")?
        .build()
        .context("not an OpenPGP message")?;
    let (mut pkesks, mut skesks) = (Vec::new(), Vec::new());
    let (pp, params) = loop {
        let PacketParserResult::Some(pp) = ppr else {
            return Ok(None);
        };
        match &pp.packet {
            Packet::PKESK(p) => pkesks.push(p.clone()),
            Packet::SKESK(s) => skesks.push(s.clone()),
            Packet::Marker(_) | Packet::Padding(_) => {}
            Packet::SEIP(SEIP::V2(s)) if s.aead() == AEADAlgorithm::OCB => {
                let params = Params::new(s.symmetric_algo(), s.chunk_size(), *s.salt())?;
                break (pp, params);
            }
            _ => return Ok(None),
        }
        if pkesks.len() + skesks.len() > MAX_ESKS_PARSED {
            // A flood of session keys: the caller's own error (and limits) stand.
            return Ok(None);
        }
        ppr = pp.next().context("reading the message's packets")?.1;
    };
    let mut body = ChunkReader::new(pp, params);
    body.fill().context("reading the encrypted data")?;

    let mut opener = Helper::new(team, extra, max_pkesks);
    let mut found: Option<Keys> = None;
    opener.decrypt(
        &pkesks,
        &skesks,
        Some(params.sym),
        &mut |_algo, sk: &SessionKey| match Keys::derive(&params, sk) {
            Ok(k) if body.first_chunk_opens(&k) => {
                found = Some(k);
                true
            }
            _ => false,
        },
    )?;
    let keys = found.ok_or_else(|| anyhow!("no session key opened the encrypted data"))?;
    body.keys = Some(keys);

    let reader = Plaintext {
        body,
        out: Vec::new(),
        pos: 0,
    };
    let mut v = VerifierBuilder::from_reader(reader)
        .context("the decrypted data is not an OpenPGP message")?
        .buffer_size(STREAM_BUFFER)
        .with_policy(&POLICY, None, Helper::new(team, extra, 0))?;
    let value = consume(&mut v)?;
    let h = v.into_helper();
    Ok(Some(Opened {
        value,
        // Not read again under the old-mail policy: a signature by a SHA-1-bound key
        // inside an RFC 9580 message claims nothing (`bad`, "could not be checked").
        signatures: super::open::recheck(h.sigs, &h.unchecked, None),
        team_key: opener.used,
        session_key_hash: opener.session_key_hash,
    }))
}

/// The SEIPDv2 packet's parameters.
#[derive(Clone, Copy)]
struct Params {
    sym: SymmetricAlgorithm,
    cipher: openssl::symm::Cipher,
    key_len: usize,
    chunk: usize,
    salt: [u8; 32],
    /// The associated data of every chunk: the packet's tag (new format) and the four
    /// octets after it (RFC 9580 §5.13.2).
    ad: [u8; 5],
}

impl Params {
    fn new(sym: SymmetricAlgorithm, chunk: u64, salt: [u8; 32]) -> Result<Params> {
        let (cipher, key_len) = match sym {
            SymmetricAlgorithm::AES128 => (openssl::symm::Cipher::aes_128_ocb(), 16),
            SymmetricAlgorithm::AES192 => (openssl::symm::Cipher::aes_192_ocb(), 24),
            SymmetricAlgorithm::AES256 => (openssl::symm::Cipher::aes_256_ocb(), 32),
            other => {
                return Err(anyhow!(
                    "RFC 9580 encrypted data with OCB over {other}: this build can decrypt OCB only with AES"
                ));
            }
        };
        if !(64..=MAX_CHUNK).contains(&chunk) || !chunk.is_power_of_two() {
            return Err(anyhow!("invalid chunk size {chunk} in the encrypted data"));
        }
        let octet = u8::try_from(chunk.trailing_zeros() - 6).unwrap_or(0);
        Ok(Params {
            sym,
            cipher,
            key_len,
            chunk: usize::try_from(chunk).unwrap_or(1 << 22),
            salt,
            ad: [0xD2, 2, u8::from(sym), u8::from(AEADAlgorithm::OCB), octet],
        })
    }
}

/// The message key and the nonce's fixed part, derived from the session key.
struct Keys {
    key: Vec<u8>,
    iv: [u8; NONCE - 8],
}

impl Keys {
    /// HKDF-SHA256 (RFC 5869) of the session key, salted with the packet's salt, with
    /// the associated data as info; the message key, then the IV (RFC 9580 §5.13.2).
    fn derive(p: &Params, sk: &SessionKey) -> Result<Keys> {
        if sk.len() != p.key_len {
            return Err(anyhow!("session key of the wrong length for {}", p.sym));
        }
        let prk = hmac_sha256(&p.salt, &[&sk[..]]);
        let need = p.key_len + NONCE - 8;
        let mut okm = Vec::with_capacity(need + 32);
        let mut t: Vec<u8> = Vec::new();
        let mut i = 1u8;
        while okm.len() < need {
            t = hmac_sha256(&prk, &[&t, &p.ad, &[i]]).to_vec();
            okm.extend_from_slice(&t);
            i += 1;
        }
        let mut iv = [0u8; NONCE - 8];
        iv.copy_from_slice(
            okm.get(p.key_len..need)
                .ok_or_else(|| anyhow!("HKDF output too short"))?,
        );
        okm.truncate(p.key_len);
        Ok(Keys { key: okm, iv })
    }

    fn nonce(&self, index: u64) -> [u8; NONCE] {
        let mut n = [0u8; NONCE];
        for (d, s) in n.iter_mut().zip(self.iv.iter().chain(&index.to_be_bytes())) {
            *d = *s;
        }
        n
    }
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    let long;
    let key = if key.len() > 64 {
        long = Sha256::digest(key);
        &long[..]
    } else {
        key
    };
    for (d, s) in k.iter_mut().zip(key) {
        *d = *s;
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Decrypts and authenticates one chunk (`data` = ciphertext followed by its tag).
fn open_chunk(p: &Params, k: &Keys, index: u64, ad: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    let split = data
        .len()
        .checked_sub(TAG)
        .ok_or_else(|| anyhow!("the encrypted data is truncated"))?;
    let (ct, tag) = data.split_at(split);
    openssl::symm::decrypt_aead(p.cipher, &k.key, Some(&k.nonce(index)), ad, ct, tag)
        .map_err(|_| anyhow!("the encrypted data does not authenticate (chunk {index}): the message was altered or truncated"))
}

/// The SEIPDv2 packet's body, read chunk by chunk from the packet parser.
struct ChunkReader<R> {
    inner: R,
    params: Params,
    keys: Option<Keys>,
    /// Ciphertext read ahead: up to one chunk, its tag and the final tag.
    buf: Vec<u8>,
    eof: bool,
    index: u64,
    total: u64,
    done: bool,
}

impl<R: Read> ChunkReader<R> {
    fn new(inner: R, params: Params) -> Self {
        ChunkReader {
            inner,
            params,
            keys: None,
            buf: Vec::new(),
            eof: false,
            index: 0,
            total: 0,
            done: false,
        }
    }

    /// Reads ahead until one chunk, its tag and the final tag are held, or the end.
    fn fill(&mut self) -> std::io::Result<()> {
        let want = self.params.chunk + 2 * TAG;
        while !self.eof && self.buf.len() < want {
            let start = self.buf.len();
            self.buf.resize(want, 0);
            let n = self
                .inner
                .read(self.buf.get_mut(start..).unwrap_or_default())?;
            self.buf.truncate(start + n);
            self.eof = n == 0;
        }
        Ok(())
    }

    /// The next chunk's ciphertext and tag, if a chunk (not only the final tag) is left.
    fn next_len(&self) -> usize {
        let full = self.params.chunk + TAG;
        if self.buf.len() >= full + TAG {
            full
        } else {
            self.buf.len().saturating_sub(TAG)
        }
    }

    /// Whether `k` authenticates the first chunk (or, for an empty plaintext, the final
    /// tag): how a candidate session key is tested.
    fn first_chunk_opens(&self, k: &Keys) -> bool {
        let n = self.next_len();
        if n > 0 {
            let chunk = self.buf.get(..n).unwrap_or_default();
            open_chunk(&self.params, k, 0, &self.params.ad, chunk).is_ok()
        } else {
            self.final_tag(k, 0, 0).is_ok()
        }
    }

    fn final_tag(&self, k: &Keys, index: u64, total: u64) -> Result<()> {
        let mut ad = self.params.ad.to_vec();
        ad.extend_from_slice(&total.to_be_bytes());
        if self.buf.len() != TAG {
            return Err(anyhow!("the encrypted data is truncated"));
        }
        open_chunk(&self.params, k, index, &ad, &self.buf).map(|_| ())
    }

    /// The next chunk's plaintext; empty at the end, after the final tag is checked.
    fn next_chunk(&mut self) -> Result<Vec<u8>> {
        if self.done {
            return Ok(Vec::new());
        }
        self.fill().context("reading the encrypted data")?;
        let keys = self
            .keys
            .as_ref()
            .ok_or_else(|| anyhow!("no session key"))?;
        let n = self.next_len();
        if n == 0 {
            self.final_tag(keys, self.index, self.total)?;
            self.done = true;
            return Ok(Vec::new());
        }
        let plain = open_chunk(
            &self.params,
            keys,
            self.index,
            &self.params.ad,
            self.buf.get(..n).unwrap_or_default(),
        )?;
        self.buf.drain(..n);
        self.index += 1;
        self.total += plain.len() as u64;
        Ok(plain)
    }
}

/// The decrypted packets, as a reader for sequoia's `Verifier`.
struct Plaintext<R> {
    body: ChunkReader<R>,
    out: Vec<u8>,
    pos: usize,
}

impl<R: Read> Read for Plaintext<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.out.len() {
            if self.body.done {
                return Ok(0);
            }
            self.out = self.body.next_chunk().map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{e:#}"))
            })?;
            self.pos = 0;
        }
        let n = self.out.get(self.pos..).unwrap_or_default().read(buf)?;
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openpgp::parse::PacketParser;

    /// RFC 9580, Appendix A.9: "Sample AEAD-OCB Encryption and Decryption" (a v6 SKESK
    /// for the passphrase "password" and a SEIPDv2 packet with AES-128 and OCB), and
    /// the session key the appendix gives for it.
    const RFC9580_A9: &str = "-----BEGIN PGP MESSAGE-----

wz8GHQcCCwMIVqKY0vXjZFP/z8xcEWZO2520JZDX3EawckG2EsOBLP/76gDyNHsl
ZBEj+IeuYNT9YU4IN9gZ02zSaQIHAgYgpmH3MfyaMDK1YjMmAn46XY21dI6+/wsM
WRDQns3WQf+f04VidYA1vEl1TOG/P/+n2tCjuBBPUTPPQqQQCoPu9MobSAGohGv0
K82nyM6dZeIS8wHLzZj9yt5pSod61CRzI/boVw==
-----END PGP MESSAGE-----
";
    const RFC9580_A9_SESSION_KEY: [u8; 16] = [
        0x28, 0xe7, 0x9a, 0xb8, 0x23, 0x97, 0xd3, 0xc6, 0x3d, 0xe2, 0x4a, 0xc2, 0x17, 0xd7, 0xb7,
        0x91,
    ];

    fn binary(armored: &str) -> Vec<u8> {
        let mut out = Vec::new();
        openpgp::armor::Reader::from_bytes(
            armored.as_bytes(),
            openpgp::armor::ReaderMode::Tolerant(None),
        )
        .read_to_end(&mut out)
        .unwrap();
        out
    }

    /// Decrypts the SEIPDv2 packet of `data` with `sk`: the packets inside, or why not.
    fn open_with(data: &[u8], sk: &[u8]) -> Result<Vec<u8>> {
        let mut ppr = PacketParser::from_bytes(data)?;
        while let PacketParserResult::Some(pp) = ppr {
            if let Packet::SEIP(SEIP::V2(s)) = &pp.packet {
                assert_eq!(s.aead(), AEADAlgorithm::OCB);
                let params = Params::new(s.symmetric_algo(), s.chunk_size(), *s.salt())?;
                let mut body = ChunkReader::new(pp, params);
                body.fill()?;
                let keys = Keys::derive(&params, &SessionKey::from(sk.to_vec()))?;
                if !body.first_chunk_opens(&keys) {
                    return Err(anyhow!("the session key does not open the first chunk"));
                }
                body.keys = Some(keys);
                let mut out = Vec::new();
                Plaintext {
                    body,
                    out: Vec::new(),
                    pos: 0,
                }
                .read_to_end(&mut out)?;
                return Ok(out);
            }
            ppr = pp.next()?.1;
        }
        Err(anyhow!("no SEIPDv2 packet"))
    }

    fn literal_body(packets: &[u8]) -> Vec<u8> {
        match openpgp::Message::from_bytes(packets).unwrap().body() {
            Some(l) => l.body().to_vec(),
            None => panic!("no literal data"),
        }
    }

    #[test]
    fn the_rfc_9580_ocb_sample_decrypts_to_its_plaintext() {
        let data = binary(RFC9580_A9);
        let packets = open_with(&data, &RFC9580_A9_SESSION_KEY).unwrap();
        assert_eq!(literal_body(&packets), b"Hello, world!");
    }

    #[test]
    fn a_wrong_session_key_an_altered_chunk_or_final_tag_is_refused() {
        let data = binary(RFC9580_A9);
        let mut wrong = RFC9580_A9_SESSION_KEY;
        wrong[0] ^= 1;
        assert!(open_with(&data, &wrong).is_err());
        // The last 16 octets are the final tag (over the total length), the 16 before
        // them the only chunk's tag, and before that the chunk's ciphertext.
        for back in [1, 17, 20] {
            let mut altered = data.clone();
            let i = altered.len() - back;
            altered[i] ^= 0x40;
            let e = open_with(&altered, &RFC9580_A9_SESSION_KEY)
                .expect_err("an altered message must not decrypt");
            if back == 1 {
                assert!(format!("{e:#}").contains("does not authenticate"), "{e:#}");
            }
        }
    }

    #[test]
    fn hkdf_sha256_matches_rfc_5869_test_case_1() {
        // RFC 5869 A.1: the PRK and the first 32 octets of the OKM.
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0u8..=0x0c).collect();
        let info: Vec<u8> = (0xf0u8..=0xf9).collect();
        let prk = hmac_sha256(&salt, &[&ikm]);
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(&prk),
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
        );
        let t1 = hmac_sha256(&prk, &[&info, &[1]]);
        assert_eq!(
            hex(&t1),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
    }

    #[test]
    fn only_aes_and_valid_chunk_sizes_are_accepted() {
        assert!(Params::new(SymmetricAlgorithm::AES256, 1 << 12, [0; 32]).is_ok());
        assert!(Params::new(SymmetricAlgorithm::Twofish, 1 << 12, [0; 32]).is_err());
        assert!(Params::new(SymmetricAlgorithm::AES128, 1 << 23, [0; 32]).is_err());
        assert!(Params::new(SymmetricAlgorithm::AES128, 100, [0; 32]).is_err());
    }
}

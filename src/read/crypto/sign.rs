//! Signing and sealing with the team's keys: detached signatures for PGP/MIME
//! replies, signed-and-encrypted replies, and the store's sealed fields and blobs
//! (encrypted to the team's own certificates).

use std::io::Read;

use anyhow::{Context, Result};
use sequoia_openpgp as openpgp;

use openpgp::Cert;

use super::*;

impl TeamKeys {
    /// Can we sign outgoing mail?
    pub(crate) fn can_sign(&self) -> bool {
        !self.signers.is_empty()
    }

    /// A detached, armored signature over `data` (SHA-256; micalg=pgp-sha256).
    pub fn sign_detached(&self, data: &[u8]) -> Result<String> {
        use openpgp::serialize::SerializeInto as _;
        let sig = openpgp::Packet::from(self.signature(data)?);
        let bytes = sig.to_vec().context("serialising the signature")?;
        let armored = openpgp::armor::Writer::new(Vec::new(), openpgp::armor::Kind::Signature)
            .and_then(|mut w| {
                std::io::Write::write_all(&mut w, &bytes)?;
                w.finalize()
            })
            .context("armoring the signature")?;
        String::from_utf8(armored).context("armored signature is not UTF-8")
    }

    /// The team's binary signature over `data`: the signature sequoia's streaming
    /// signer makes (v4, SHA-256, creation time, issuer and issuer fingerprint, a
    /// 32-byte salt notation), assembled here from sequoia's parts so the salt comes
    /// from getrandom(2): sequoia draws it from a nettle generator it seeds anew for
    /// every call (1,500 SHA-256 rounds, ~150 us, most of an ack's signing time).
    /// Verified by gpg in the tests.
    fn signature(&self, data: &[u8]) -> Result<openpgp::packet::Signature> {
        use openpgp::crypto::Signer as _;
        use openpgp::crypto::hash::Hash as _;
        use openpgp::packet::signature::{Signature4, SignatureBuilder};
        use openpgp::types::{HashAlgorithm, SignatureType};
        let mut pair = self
            .signers
            .first()
            .context("no signing-capable team key is configured")?
            .clone();
        let mut salt = [0u8; 32];
        random_bytes(&mut salt).context("random bytes for the signature's salt")?;
        let public = pair.public().clone();
        let hash_algo = HashAlgorithm::SHA256;
        let builder = SignatureBuilder::new(SignatureType::Binary)
            .set_hash_algo(hash_algo)
            .set_signature_creation_time(std::time::SystemTime::now())?
            .set_issuer_fingerprint(public.fingerprint())?
            .set_issuer(public.keyid())?
            .set_notation("salt@notations.sequoia-pgp.org", salt, None, false)?;
        let fields = |prefix: [u8; 2], mpis: openpgp::crypto::mpi::Signature| {
            Signature4::new(
                SignatureType::Binary,
                public.pk_algo(),
                hash_algo,
                builder.hashed_area().clone(),
                builder.unhashed_area().clone(),
                prefix,
                mpis,
            )
        };
        let mut ctx = hash_algo.context()?.for_signature(4);
        ctx.update(data);
        // The hash covers the signature's fields only (not its prefix or MPIs).
        fields(
            [0, 0],
            openpgp::crypto::mpi::Signature::Unknown {
                mpis: Box::new([]),
                rest: Box::new([]),
            },
        )
        .hash(&mut ctx)?;
        let mut digest = vec![0u8; ctx.digest_size()];
        ctx.digest(&mut digest)?;
        #[cfg(feature = "crypto-nettle")]
        let mpis = match &self.ed25519 {
            Some(fast) => fast.sign(&digest)?,
            None => pair.sign(hash_algo, &digest)?,
        };
        #[cfg(not(feature = "crypto-nettle"))]
        let mpis = pair.sign(hash_algo, &digest)?;
        let prefix = [
            digest.first().copied().unwrap_or_default(),
            digest.get(1).copied().unwrap_or_default(),
        ];
        Ok(openpgp::packet::Signature::from(fields(prefix, mpis)))
    }

    /// Signs and encrypts `data` to the recipients' valid encryption subkeys (and to the
    /// team, so the sent copy stays readable). Armored.
    pub(crate) fn sign_and_encrypt(&self, recipients: &[Cert], data: &[u8]) -> Result<String> {
        use openpgp::serialize::Serialize as _;
        use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message};
        use std::io::Write;
        let mut keys = Vec::new();
        let team: Vec<&Cert> = self.current_certs().collect();
        for (i, c) in recipients.iter().chain(team).enumerate() {
            let is_recipient = i < recipients.len();
            let vc = c.with_policy(&POLICY, None)?;
            let mut valid: Vec<_> = vc
                .keys()
                .supported()
                .alive()
                .revoked(false)
                .for_transport_encryption()
                .for_storage_encryption()
                .collect();
            // A certificate with thousands of encryption subkeys must not make a
            // huge reply: the newest few (gpg uses only the newest one).
            valid.sort_by_key(|ka| std::cmp::Reverse(ka.key().creation_time()));
            valid.truncate(MAX_RECIPIENT_SUBKEYS);
            // Never a message only the team can read: each recipient needs a key.
            anyhow::ensure!(
                !is_recipient || !valid.is_empty(),
                "the recipient's certificate {} has no valid encryption key",
                c.fingerprint()
            );
            keys.extend(valid);
        }
        if keys.is_empty() {
            anyhow::bail!("no valid encryption key among the recipients");
        }
        // A signed message inside the encryption: one-pass signature, literal data,
        // signature (what sequoia's streaming signer writes), with the signature and
        // the session key drawn from getrandom(2) rather than from a nettle generator
        // seeded anew for each (see `signature`).
        let sig = self.signature(data)?;
        let mut ops = openpgp::packet::one_pass_sig::OnePassSig3::try_from(&sig)
            .context("a one-pass signature for the reply")?;
        ops.set_last(true);
        let sym_algo = openpgp::types::SymmetricAlgorithm::AES256;
        let mut sk = vec![0u8; sym_algo.key_size()?];
        random_bytes(&mut sk).context("random bytes for the session key")?;
        let sk = openpgp::crypto::SessionKey::from(sk);
        let mut out = Vec::new();
        {
            let m = Message::new(&mut out);
            let m = Armorer::new(m).build()?;
            let mut m = Encryptor::with_session_key(m, sym_algo, sk)?
                .add_recipients(keys)
                .build()?;
            openpgp::Packet::from(openpgp::packet::OnePassSig::from(ops)).serialize(&mut m)?;
            let mut w = LiteralWriter::new(m).build()?;
            w.write_all(data)?;
            let mut m = w
                .finalize_one()?
                .context("the encryption layer under the literal data")?;
            openpgp::Packet::from(sig).serialize(&mut m)?;
            m.finalize()?;
        }
        String::from_utf8(out).context("armored message is not UTF-8")
    }

    /// Encrypts data to the team's own keys (encryption at rest), binary OpenPGP.
    pub(crate) fn seal(&self, data: &[u8]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.seal_stream(data, &mut out)?;
        Ok(out)
    }

    /// [`TeamKeys::seal`] from a reader to a writer, a buffer at a time (a message read
    /// as a stream is sealed from its spool file into another).
    pub(crate) fn seal_stream(
        &self,
        mut data: impl Read,
        out: impl std::io::Write + Send + Sync,
    ) -> Result<()> {
        use openpgp::serialize::stream::{Encryptor, LiteralWriter, Message};
        let mut keys = Vec::new();
        for c in self.current_certs() {
            let vc = c.with_policy(&POLICY, None)?;
            keys.extend(
                vc.keys()
                    .supported()
                    .revoked(false)
                    .for_storage_encryption()
                    .for_transport_encryption(),
            );
        }
        anyhow::ensure!(
            !keys.is_empty(),
            "no team key can encrypt (store.encrypt_at_rest)"
        );
        let m = Message::new(out);
        let m = Encryptor::for_recipients(m, keys).build()?;
        let mut w = LiteralWriter::new(m).build()?;
        std::io::copy(&mut data, &mut w).context("sealing")?;
        w.finalize()?;
        Ok(())
    }

    /// Decrypts what `seal` made.
    pub(crate) fn unseal(&self, data: &[u8]) -> Result<Vec<u8>> {
        Ok(decrypt(self, &[], data, u64::MAX / 2, usize::MAX)?.plaintext)
    }

    /// `seal` for text, armored (stored in TEXT columns).
    pub(crate) fn seal_text(&self, text: &str) -> Result<String> {
        let bin = self.seal(text.as_bytes())?;
        let mut out = Vec::new();
        {
            use std::io::Write;
            let mut w = openpgp::armor::Writer::new(&mut out, openpgp::armor::Kind::Message)?;
            w.write_all(&bin)?;
            w.finalize()?;
        }
        String::from_utf8(out).context("armor is not UTF-8")
    }

    pub(crate) fn unseal_text(&self, armored: &str) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.unseal(armored.as_bytes())?).into_owned())
    }

    /// A short text field (a subject) sealed for a TEXT column: `sealed:` + armor.
    /// Readers recognise the prefix ([`Opener::open_field`]).
    pub(crate) fn seal_field(&self, s: Option<&str>) -> Result<Option<String>> {
        s.map(|s| Ok(format!("{SEALED}{}", self.seal_text(s)?)))
            .transpose()
    }
}

impl Opener for TeamKeys {
    fn open_bytes(&self, data: &[u8]) -> Result<Vec<u8>> {
        self.unseal(data)
    }
    fn open_text(&self, armored: &str) -> Result<String> {
        self.unseal_text(armored)
    }
}

// Package secrets has no code of its own: its test checks, in one table,
// that no type holding key material or a password prints it, whatever the
// fmt verb (admin.SecretKey and the admin requests that carry a password
// or a join token, directory.Key and MasterKey, crypto.Key,
// wire.EncryptionKey and ChangePasswdData, keytab entries, ccache and
// client credentials, and the structs that carry them). It sits apart so
// that it may import them all without any of them importing the others.
package secrets

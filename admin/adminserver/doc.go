// Package adminserver is the server side of hop's admin API (package
// hop/admin): [Local], the admin.Service that acts on a directory for one
// actor (the hop CLI on the directory's host, or the server for each
// authenticated caller); [Handler], which serves any admin.Service over
// HTTP with strict request decoding; [HTTPServer], the API as hop kdc
// serves it, with SPNEGO authentication by the keys of the HTTP/ SPNs in
// the directory; the JSON views of directory objects; and the server's
// self-signed TLS certificate ([LoadOrCreateCert]), which clients trust by
// its pin (admin.Pin).
//
// It maps the directory's failures to the API's errors: a client gets the
// directory error's user message and kind, never the text of an internal
// cause, which the server logs instead.
package adminserver

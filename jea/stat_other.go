//go:build !unix

package jea

import "io/fs"

func ownerUID(fs.FileInfo) (uint32, bool) { return 0, false }

const oNoFollow = 0

package book

import "github.com/tapedeck/tapedeck/engine/esa"

// decode is the decoder the tests use.
func decode(line []byte, msg *esa.Message) error { return refDecode(line, msg) }

package mem_test

import (
	"testing"

	"hop/directory"
	"hop/directory/mem"
	"hop/directory/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) directory.Store { return mem.New() })
}

// Command hop is hop's one binary: the KDC, the directory's administration
// and the tools around them. See internal/cli and README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"hop/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.ExitCode(err, os.Stderr))
}

// Command anzhi is the command-line interface of anzhi, the data-sharing hub
// for the follow-up support of households relocated out of poverty in
// Xianyang: it runs the hub, publishes facts, shows the event catalog and
// reads the rejection ledger. Run "anzhi --help" for the commands and the exit
// codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

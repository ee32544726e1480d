// pulumi-resource-command is gentoo-infra's STAND-IN for the Pulumi command provider plugin:
// it serves command:local:Command, command:remote:Command and command:remote:CopyToRemote, the
// subset of the command package (schema v1.2.1) the project uses, because the upstream provider
// module is not served by the Go module proxy here. See docs/toolchain.md, "The command provider (stand-in)".
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/pulumi/pulumi-go-provider/infer"

	"gentoo-infra/toolchain/command/local"
	"gentoo-infra/toolchain/command/remote"
	"gentoo-infra/toolchain/command/version"
)

func main() {
	provider, err := infer.NewProviderBuilder().
		WithDisplayName("Command (gentoo-infra stand-in)").
		WithDescription("STAND-IN for the Pulumi Command provider: local.Command, and remote.Command and "+
			"remote.CopyToRemote over SSH.").
		WithNamespace("pulumi").
		WithLicense("Apache-2.0").
		WithResources(
			infer.Resource(&local.Command{}),
			infer.Resource(&remote.Command{}),
			infer.Resource(&remote.CopyToRemote{}),
		).
		Build()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-command: %v\n", err)
		os.Exit(1)
	}
	if err := provider.Run(context.Background(), "command", version.Version); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-command: %v\n", err)
		os.Exit(1)
	}
}

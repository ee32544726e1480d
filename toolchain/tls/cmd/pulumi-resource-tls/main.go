// Command pulumi-resource-tls is the tls resource provider plugin.
package main

import (
	"context"
	_ "embed"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"gentoo-infra/toolchain/tls/info"
)

// schema-embed.json is the generated schema.json (see toolchain/build).
//
//go:embed schema-embed.json
var schema []byte

func main() {
	pfbridge.Main(context.Background(), "tls", info.Provider(), pfbridge.ProviderMetadata{PackageSchema: schema})
}

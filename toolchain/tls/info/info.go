// Package info maps the Terraform TLS provider to the Pulumi package "tls" with the tokens the
// @pulumi/tls Node SDK uses (tls:index/<camelName>:<Name>).
package info

import (
	_ "embed"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/hashicorp/terraform-provider-tls/shim"

	"gentoo-infra/toolchain/tls/version"
)

// bridge-metadata.json is written by `pulumi-tfgen-tls schema` (see toolchain/build).
//
//go:embed bridge-metadata.json
var metadata []byte

func resourceToken(camel, name string) tokens.Type {
	return tokens.Type("tls:index/" + camel + ":" + name)
}

func functionToken(camel string) tokens.ModuleMember {
	return tokens.ModuleMember("tls:index/" + camel + ":" + camel)
}

// Provider returns the bridge configuration of the tls package.
func Provider() tfbridge.ProviderInfo {
	return tfbridge.ProviderInfo{
		P:            pfbridge.ShimProvider(shim.NewProvider()),
		Name:         "tls",
		Description:  "A Pulumi package to create TLS resources in Pulumi programs.",
		License:      "Apache-2.0",
		Version:      version.Version,
		GitHubOrg:    "hashicorp",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources: map[string]*tfbridge.ResourceInfo{
			"tls_cert_request":        {Tok: resourceToken("certRequest", "CertRequest")},
			"tls_locally_signed_cert": {Tok: resourceToken("locallySignedCert", "LocallySignedCert")},
			"tls_private_key":         {Tok: resourceToken("privateKey", "PrivateKey")},
			"tls_self_signed_cert":    {Tok: resourceToken("selfSignedCert", "SelfSignedCert")},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"tls_public_key":  {Tok: functionToken("getPublicKey")},
			"tls_certificate": {Tok: functionToken("getCertificate")},
		},
		EnableZeroDefaultSchemaVersion: true,
	}
}

// Package shim exposes the Terraform TLS provider (a Plugin Framework provider) to the bridge.
package shim

import (
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-provider-tls/internal/provider"
)

// NewProvider returns the upstream provider.
func NewProvider() fwprovider.Provider { return provider.New() }

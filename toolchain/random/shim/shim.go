// Package shim exposes the Terraform random provider (a Plugin Framework provider) to the bridge.
package shim

import (
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns the upstream provider.
func NewProvider() fwprovider.Provider { return provider.New() }

//go:build tools

// Package tools pins the commands this module builds; see go.mod.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"

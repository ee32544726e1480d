// Package local implements command:local:Command of the gentoo-infra STAND-IN command
// provider: commands run on the machine that runs the Pulumi program (the provider's own
// process environment plus `environment`). See docs/toolchain.md, "The command provider
// (stand-in)".
package local

import (
	"context"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Logging says which of the command's streams go to the Pulumi log.
type Logging string

// The values of Logging.
const (
	LoggingStdout          Logging = "stdout"
	LoggingStderr          Logging = "stderr"
	LoggingStdoutAndStderr Logging = "stdoutAndStderr"
	LoggingNone            Logging = "none"
)

// Values makes Logging an enum in the schema.
func (Logging) Values() []infer.EnumValue[Logging] {
	return []infer.EnumValue[Logging]{
		{Value: LoggingStdout, Description: "Capture stdout in logs but not stderr"},
		{Value: LoggingStderr, Description: "Capture stderr in logs but not stdout"},
		{Value: LoggingStdoutAndStderr, Description: "Capture stdout and stderr in logs"},
		{Value: LoggingNone, Description: "Capture no logs"},
	}
}

// The environment variables that carry the previous run's output.
const (
	envPreviousStdout = "PULUMI_COMMAND_STDOUT"
	envPreviousStderr = "PULUMI_COMMAND_STDERR"
)

// Command runs commands on the local machine: `create` on creation, `update` (or `create`
// again) when an input changes, `delete` on deletion. A change of `triggers` replaces it.
type Command struct{}

// CommandInputs are the inputs of command:local:Command (schema v1.2.1).
type CommandInputs struct {
	Create                 *string           `pulumi:"create,optional"`
	Update                 *string           `pulumi:"update,optional"`
	Delete                 *string           `pulumi:"delete,optional"`
	Environment            map[string]string `pulumi:"environment,optional"`
	Triggers               *[]any            `pulumi:"triggers,optional" provider:"replaceOnChanges"`
	Interpreter            *[]string         `pulumi:"interpreter,optional"`
	Dir                    *string           `pulumi:"dir,optional"`
	Stdin                  *string           `pulumi:"stdin,optional"`
	AddPreviousOutputInEnv *bool             `pulumi:"addPreviousOutputInEnv,optional"`
	Logging                *Logging          `pulumi:"logging,optional"`
	// Declared so that a value can be refused (Check); not implemented by the stand-in.
	AssetPaths   *[]string `pulumi:"assetPaths,optional"`
	ArchivePaths *[]string `pulumi:"archivePaths,optional"`
}

// CommandOutputs are the inputs plus the captured output of the last run.
type CommandOutputs struct {
	CommandInputs
	Stdout string `pulumi:"stdout"`
	Stderr string `pulumi:"stderr"`
}

var (
	_ = (infer.CustomResource[CommandInputs, CommandOutputs])((*Command)(nil))
	_ = (infer.CustomCheck[CommandInputs])((*Command)(nil))
	_ = (infer.CustomUpdate[CommandInputs, CommandOutputs])((*Command)(nil))
	_ = (infer.CustomDelete[CommandOutputs])((*Command)(nil))
)

// Annotate describes the resource in the schema.
func (c *Command) Annotate(a infer.Annotator) {
	a.Describe(&c, "A local command to be executed. "+
		"(gentoo-infra STAND-IN for the upstream command provider v1.2.1.)")
}

// Annotate describes the inputs in the schema.
func (c *CommandInputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Create, "The command to run on create; also run on update when `update` is not set.")
	a.Describe(&c.Update, "The command to run when an input changes; if empty, `create` runs instead.")
	a.Describe(&c.Delete, "The command to run on delete.")
	a.Describe(&c.Environment, "Additional environment variables available to the command's process.")
	a.Describe(&c.Triggers, "The resource is replaced when any of these values change.")
	a.Describe(&c.Interpreter, "The program and arguments to run the command. Defaults to `[\"/bin/sh\", \"-c\"]`.")
	a.Describe(&c.Dir, "The directory to run the command in (it must exist). Defaults to the provider's working directory.")
	a.Describe(&c.Stdin, "Pass a string to the command's process as standard in.")
	a.Describe(&c.AddPreviousOutputInEnv, "Whether the previous run's stdout and stderr are passed as "+
		"PULUMI_COMMAND_STDOUT and PULUMI_COMMAND_STDERR. Defaults to true.")
	a.Describe(&c.Logging, "Which of stdout and stderr are logged. Defaults to both.")
	a.Describe(&c.AssetPaths, "Not implemented by the gentoo-infra stand-in: setting it fails.")
	a.Describe(&c.ArchivePaths, "Not implemented by the gentoo-infra stand-in: setting it fails.")
}

// Annotate describes the outputs in the schema.
func (c *CommandOutputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Stdout, "The standard output of the command's process (one trailing newline removed).")
	a.Describe(&c.Stderr, "The standard error of the command's process (one trailing newline removed).")
}

// unimplemented are the inputs of schema v1.2.1 the stand-in refuses.
var unimplemented = []string{"assetPaths", "archivePaths"}

// Check validates the inputs: the asset and archive globs of upstream are refused.
func (*Command) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[CommandInputs], error) {
	inputs, failures, err := infer.DefaultCheck[CommandInputs](ctx, req.NewInputs)
	if err != nil {
		return infer.CheckResponse[CommandInputs]{Inputs: inputs, Failures: failures}, err
	}
	for _, name := range unimplemented {
		// Also when the value is still unknown: the program set it.
		if v, ok := req.NewInputs.GetOk(name); ok && !v.IsNull() {
			failures = append(failures, p.CheckFailure{Property: name, Reason: name +
				" is not implemented by the gentoo-infra stand-in command provider " +
				"(docs/toolchain.md); remove it and read the files in a later step"})
		}
	}
	return infer.CheckResponse[CommandInputs]{Inputs: inputs, Failures: failures}, nil
}

// Create runs `create` (nothing when it is unset).
func (*Command) Create(ctx context.Context, req infer.CreateRequest[CommandInputs]) (infer.CreateResponse[CommandOutputs], error) {
	state := CommandOutputs{CommandInputs: req.Inputs}
	if req.DryRun {
		return infer.CreateResponse[CommandOutputs]{Output: state}, nil
	}
	id, err := resource.NewUniqueHex(req.Name, 8, 0)
	if err != nil {
		return infer.CreateResponse[CommandOutputs]{}, err
	}
	if req.Inputs.Create != nil {
		if err := state.run(ctx, *req.Inputs.Create, nil); err != nil {
			return infer.CreateResponse[CommandOutputs]{}, err
		}
	}
	return infer.CreateResponse[CommandOutputs]{ID: id, Output: state}, nil
}

// Update runs `update`, or `create` when `update` is unset.
func (*Command) Update(ctx context.Context, req infer.UpdateRequest[CommandInputs, CommandOutputs]) (infer.UpdateResponse[CommandOutputs], error) {
	state := CommandOutputs{CommandInputs: req.Inputs, Stdout: req.State.Stdout, Stderr: req.State.Stderr}
	if req.DryRun {
		return infer.UpdateResponse[CommandOutputs]{Output: state}, nil
	}
	cmd := req.Inputs.Update
	if cmd == nil {
		cmd = req.Inputs.Create
	}
	if cmd != nil {
		if err := state.run(ctx, *cmd, &req.State); err != nil {
			return infer.UpdateResponse[CommandOutputs]{}, err
		}
	}
	return infer.UpdateResponse[CommandOutputs]{Output: state}, nil
}

// Delete runs `delete` (nothing when it is unset).
func (*Command) Delete(ctx context.Context, req infer.DeleteRequest[CommandOutputs]) (infer.DeleteResponse, error) {
	if req.State.Delete == nil {
		return infer.DeleteResponse{}, nil
	}
	state := req.State
	return infer.DeleteResponse{}, state.run(ctx, *req.State.Delete, &req.State)
}

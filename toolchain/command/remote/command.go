package remote

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

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

// Command runs shell commands on a remote host over SSH: `create` on creation, `update` (or
// `create` again) when an input changes, `delete` on deletion. A change of `triggers`
// replaces it.
type Command struct{}

// CommandInputs are the inputs of command:remote:Command.
type CommandInputs struct {
	Connection             *Connection       `pulumi:"connection" provider:"secret"`
	Create                 *string           `pulumi:"create,optional"`
	Update                 *string           `pulumi:"update,optional"`
	Delete                 *string           `pulumi:"delete,optional"`
	Environment            map[string]string `pulumi:"environment,optional"`
	Stdin                  *string           `pulumi:"stdin,optional"`
	Triggers               *[]any            `pulumi:"triggers,optional" provider:"replaceOnChanges"`
	AddPreviousOutputInEnv *bool             `pulumi:"addPreviousOutputInEnv,optional"`
	Logging                *Logging          `pulumi:"logging,optional"`
}

// CommandOutputs are the inputs plus the captured output of the last run.
type CommandOutputs struct {
	CommandInputs
	Stdout string `pulumi:"stdout"`
	Stderr string `pulumi:"stderr"`
}

var (
	_ = (infer.CustomResource[CommandInputs, CommandOutputs])((*Command)(nil))
	_ = (infer.CustomUpdate[CommandInputs, CommandOutputs])((*Command)(nil))
	_ = (infer.CustomDelete[CommandOutputs])((*Command)(nil))
)

// Annotate describes the resource in the schema.
func (c *Command) Annotate(a infer.Annotator) {
	a.Describe(&c, "A command to run on a remote host. The connection is established via ssh. "+
		"(gentoo-infra STAND-IN for the upstream command provider v1.2.1.)")
}

// Annotate describes the inputs in the schema.
func (c *CommandInputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Connection, "The parameters with which to connect to the remote host.")
	a.Describe(&c.Create, "The command to run on create; also run on update when `update` is not set.")
	a.Describe(&c.Update, "The command to run when an input changes; if empty, `create` runs instead.")
	a.Describe(&c.Delete, "The command to run on delete.")
	a.Describe(&c.Environment, "Additional environment variables (the SSH server must accept them via AcceptEnv).")
	a.Describe(&c.Stdin, "Pass a string to the command's process as standard in.")
	a.Describe(&c.Triggers, "The resource is replaced when any of these values change.")
	a.Describe(&c.AddPreviousOutputInEnv, "Whether the previous run's stdout and stderr are passed as "+
		"PULUMI_COMMAND_STDOUT and PULUMI_COMMAND_STDERR. Defaults to true.")
	a.SetDefault(&c.AddPreviousOutputInEnv, true)
	a.Describe(&c.Logging, "Which of stdout and stderr are logged. Defaults to both.")
}

// Annotate describes the outputs in the schema.
func (c *CommandOutputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Stdout, "The standard output of the command's process (one trailing newline removed).")
	a.Describe(&c.Stderr, "The standard error of the command's process (one trailing newline removed).")
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

// run runs `cmd` and records its output in c; `previous` supplies PULUMI_COMMAND_STDOUT/STDERR.
func (c *CommandOutputs) run(ctx context.Context, cmd string, previous *CommandOutputs) error {
	logger := p.GetLogger(ctx)
	client, err := c.Connection.Dial(ctx)
	if err != nil {
		return err
	}
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		return fmt.Errorf("opening an SSH session: %w", err)
	}
	defer func() { _ = s.Close() }()

	env := map[string]string{}
	for k, v := range c.Environment {
		env[k] = v
	}
	if previous != nil && (c.AddPreviousOutputInEnv == nil || *c.AddPreviousOutputInEnv) {
		if previous.Stdout != "" {
			env[envPreviousStdout] = previous.Stdout
		}
		if previous.Stderr != "" {
			env[envPreviousStderr] = previous.Stderr
		}
	}
	for k, v := range env {
		// As upstream: a variable the server refuses (no AcceptEnv) is dropped.
		if err := s.Setenv(k, v); err != nil {
			logger.Debugf("the SSH server did not accept environment variable %s", k)
		}
	}
	if c.Stdin != nil && *c.Stdin != "" {
		s.Stdin = strings.NewReader(*c.Stdin)
	}

	logging := LoggingStdoutAndStderr
	if c.Logging != nil {
		logging = *c.Logging
	}
	var stdout, stderr, combined bytes.Buffer
	var mu sync.Mutex
	lines := newLineLogger(ctx)
	stream := func(buf *bytes.Buffer, log bool) io.Writer {
		return writerFunc(func(b []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			buf.Write(b)
			combined.Write(b)
			if log {
				_, _ = lines.Write(b)
			}
			return len(b), nil
		})
	}
	s.Stdout = stream(&stdout, logging == LoggingStdout || logging == LoggingStdoutAndStderr)
	s.Stderr = stream(&stderr, logging == LoggingStderr || logging == LoggingStdoutAndStderr)

	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Signal("TERM")
			client.Close()
		case <-done:
		}
	}()
	err = s.Run(cmd)
	close(done)
	mu.Lock()
	lines.Flush()
	mu.Unlock()
	if err != nil {
		return fmt.Errorf("%w: running %q:\n%s", err, cmd, combined.String())
	}
	c.Stdout = strings.TrimSuffix(stdout.String(), "\n")
	c.Stderr = strings.TrimSuffix(stderr.String(), "\n")
	return nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// lineLogger sends complete lines to the Pulumi log as they arrive.
type lineLogger struct {
	logger p.Logger
	buf    []byte
}

func newLineLogger(ctx context.Context) *lineLogger { return &lineLogger{logger: p.GetLogger(ctx)} }

func (l *lineLogger) Write(b []byte) (int, error) {
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.logger.InfoStatus(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(b), nil
}

func (l *lineLogger) Flush() {
	if len(l.buf) > 0 {
		sc := bufio.NewScanner(bytes.NewReader(l.buf))
		for sc.Scan() {
			l.logger.InfoStatus(sc.Text())
		}
		l.buf = nil
	}
}

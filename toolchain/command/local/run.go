package local

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
)

// defaultInterpreter runs the command when `interpreter` is unset or empty (as upstream on
// Linux).
var defaultInterpreter = []string{"/bin/sh", "-c"}

// killAfter is how long a cancelled command has between SIGTERM and SIGKILL.
var killAfter = 10 * time.Second

// run runs `cmd` and records its output in c; `previous` supplies PULUMI_COMMAND_STDOUT/STDERR.
// Error texts and log lines pass through a redactor, so that no `environment` value (which
// may be a secret, e.g. a private key) is ever printed.
func (c *CommandOutputs) run(ctx context.Context, cmd string, previous *CommandOutputs) error {
	args := defaultInterpreter
	if c.Interpreter != nil && len(*c.Interpreter) > 0 {
		args = *c.Interpreter
	}
	args = append(append([]string{}, args...), cmd)
	redact := newRedactor(c.Environment)

	proc := exec.Command(args[0], args[1:]...)
	if c.Dir != nil {
		proc.Dir = *c.Dir
	}
	// The provider's environment, then `environment` (the later entry of a name wins).
	proc.Env = os.Environ()
	names := make([]string, 0, len(c.Environment))
	for k := range c.Environment {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		proc.Env = append(proc.Env, k+"="+c.Environment[k])
	}
	if previous != nil && (c.AddPreviousOutputInEnv == nil || *c.AddPreviousOutputInEnv) {
		if previous.Stdout != "" {
			proc.Env = append(proc.Env, envPreviousStdout+"="+previous.Stdout)
		}
		if previous.Stderr != "" {
			proc.Env = append(proc.Env, envPreviousStderr+"="+previous.Stderr)
		}
	}
	if c.Stdin != nil && *c.Stdin != "" {
		proc.Stdin = strings.NewReader(*c.Stdin)
	}

	logging := LoggingStdoutAndStderr
	if c.Logging != nil {
		logging = *c.Logging
	}
	var stdout, stderr, combined bytes.Buffer
	var mu sync.Mutex
	lines := &lineLogger{emit: func(line string) { statusLog(ctx, redact.Replace(line)) }}
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
	proc.Stdout = stream(&stdout, logging == LoggingStdout || logging == LoggingStdoutAndStderr)
	proc.Stderr = stream(&stderr, logging == LoggingStderr || logging == LoggingStdoutAndStderr)

	err := proc.Start()
	if err == nil {
		done := make(chan struct{})
		// On cancellation (Ctrl-C in the CLI) SIGTERM first, so that a script's traps clean
		// up (the binhost's push removes its copy of the key); SIGKILL after killAfter.
		go func() {
			select {
			case <-ctx.Done():
				_ = proc.Process.Signal(syscall.SIGTERM)
				select {
				case <-time.After(killAfter):
					_ = proc.Process.Kill()
				case <-done:
				}
			case <-done:
			}
		}()
		err = proc.Wait()
		close(done)
	}
	mu.Lock()
	lines.Flush()
	mu.Unlock()
	if err != nil {
		return fmt.Errorf("%w: running %q:\n%s", err, redact.Replace(cmd), redact.Replace(combined.String()))
	}
	c.Stdout = strings.TrimSuffix(stdout.String(), "\n")
	c.Stderr = strings.TrimSuffix(stderr.String(), "\n")
	return nil
}

// minRedacted is the shortest `environment` value (or line of a multi-line value) the redactor
// replaces: shorter ones would mangle ordinary words and are no secrets.
const minRedacted = 4

// newRedactor replaces every `environment` value of at least minRedacted characters, and every
// such line of a multi-line value (a PEM key printed line by line), by `[environment NAME]`.
// The provider cannot tell which values are secrets (the engine's secret markers are gone by
// the time a command runs), so it redacts all of them.
func newRedactor(env map[string]string) *strings.Replacer {
	type candidate struct{ value, name string }
	var candidates []candidate
	for name, value := range env {
		seen := map[string]bool{}
		for _, v := range append([]string{value}, strings.Split(value, "\n")...) {
			v = strings.TrimSpace(v)
			if len(v) >= minRedacted && !seen[v] {
				seen[v] = true
				candidates = append(candidates, candidate{v, name})
			}
		}
	}
	// The longest value first: the replacer prefers the earlier of two matches at a position.
	sort.Slice(candidates, func(i, j int) bool {
		a, b := candidates[i], candidates[j]
		if len(a.value) != len(b.value) {
			return len(a.value) > len(b.value)
		}
		if a.value != b.value {
			return a.value < b.value
		}
		return a.name < b.name
	})
	pairs := make([]string, 0, 2*len(candidates))
	for _, c := range candidates {
		pairs = append(pairs, c.value, "[environment "+c.name+"]")
	}
	return strings.NewReplacer(pairs...)
}

type statusLogKey struct{}

// statusLog shows a line of the command's output as status in the progress display (tests
// capture the lines through a context value).
func statusLog(ctx context.Context, line string) {
	if f, ok := ctx.Value(statusLogKey{}).(func(string)); ok {
		f(line)
		return
	}
	p.GetLogger(ctx).InfoStatus(line)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// lineLogger passes complete lines to emit as they arrive.
type lineLogger struct {
	emit func(string)
	buf  []byte
}

func (l *lineLogger) Write(b []byte) (int, error) {
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.emit(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(b), nil
}

// Flush passes on the last, unterminated line.
func (l *lineLogger) Flush() {
	if len(l.buf) > 0 {
		l.emit(string(l.buf))
		l.buf = nil
	}
}

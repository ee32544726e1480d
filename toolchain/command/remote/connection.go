// Package remote is the STAND-IN implementation of the `command:remote:*` resources of the
// Pulumi command package (schema v1.2.1): Command and CopyToRemote over SSH. See
// docs/toolchain.md, "The command provider (stand-in)".
package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Defaults of the schema (the Node SDK applies the same ones before sending).
const (
	defaultUser           = "root"
	defaultPort           = 22
	defaultDialErrorLimit = 10
	defaultPerDialTimeout = 15
)

// Endpoint is what a connection and its proxy have in common.
type Endpoint struct {
	Host               *string  `pulumi:"host"`
	Port               *float64 `pulumi:"port,optional"`
	User               *string  `pulumi:"user,optional"`
	Password           *string  `pulumi:"password,optional"`
	PrivateKey         *string  `pulumi:"privateKey,optional"`
	PrivateKeyPassword *string  `pulumi:"privateKeyPassword,optional"`
	AgentSocketPath    *string  `pulumi:"agentSocketPath,optional"`
	DialErrorLimit     *int     `pulumi:"dialErrorLimit,optional"`
	PerDialTimeout     *int     `pulumi:"perDialTimeout,optional"`
	HostKey            *string  `pulumi:"hostKey,optional"`
}

// ProxyConnection is the bastion host a Connection is reached through.
type ProxyConnection struct {
	Endpoint
}

// Connection says how to reach the remote host over SSH.
type Connection struct {
	Endpoint
	Proxy *ProxyConnection `pulumi:"proxy,optional"`
}

func annotateEndpoint(a infer.Annotator, e *Endpoint) {
	a.Describe(&e.Host, "The address of the host to connect to.")
	a.Describe(&e.Port, "The port to connect to. Defaults to 22.")
	a.SetDefault(&e.Port, defaultPort)
	a.Describe(&e.User, "The user to log in as.")
	a.SetDefault(&e.User, defaultUser)
	a.Describe(&e.Password, "The password to log in with.")
	a.Describe(&e.PrivateKey, "The contents of an SSH private key to log in with; preferred over the password.")
	a.Describe(&e.PrivateKeyPassword, "The passphrase of an encrypted private key.")
	a.Describe(&e.AgentSocketPath, "SSH agent socket path. Defaults to SSH_AUTH_SOCK if set.")
	a.Describe(&e.DialErrorLimit, "Max allowed errors on trying to dial the host. -1 means unlimited. Default value is 10.")
	a.SetDefault(&e.DialErrorLimit, defaultDialErrorLimit)
	a.Describe(&e.PerDialTimeout, "Max number of seconds for each dial attempt. 0 implies no maximum. Default value is 15 seconds.")
	a.SetDefault(&e.PerDialTimeout, defaultPerDialTimeout)
	a.Describe(&e.HostKey, "The expected host key (authorized_keys format). If not provided, the host key is not checked.")
}

// Annotate describes the connection in the schema.
func (c *Connection) Annotate(a infer.Annotator) {
	a.Describe(&c, "Instructions for how to connect to a remote endpoint.")
	annotateEndpoint(a, &c.Endpoint)
	a.Describe(&c.Proxy, "The connection settings for the bastion/proxy host.")
}

// Annotate describes the proxy connection in the schema.
func (c *ProxyConnection) Annotate(a infer.Annotator) {
	a.Describe(&c, "Instructions for how to connect to a remote endpoint via a bastion host.")
	annotateEndpoint(a, &c.Endpoint)
}

func (e *Endpoint) address() string {
	port := float64(defaultPort)
	if e.Port != nil {
		port = *e.Port
	}
	host := ""
	if e.Host != nil {
		host = *e.Host
	}
	return net.JoinHostPort(host, strconv.FormatFloat(port, 'f', 0, 64))
}

func (e *Endpoint) dialErrorLimit() int {
	if e.DialErrorLimit == nil {
		return defaultDialErrorLimit
	}
	return *e.DialErrorLimit
}

func (e *Endpoint) perDialTimeout() time.Duration {
	if e.PerDialTimeout == nil {
		return defaultPerDialTimeout * time.Second
	}
	return time.Duration(*e.PerDialTimeout) * time.Second
}

// clientConfig is the SSH client configuration of the endpoint. The returned closer releases
// the agent connection, if any.
func (e *Endpoint) clientConfig() (*ssh.ClientConfig, func(), error) {
	user := defaultUser
	if e.User != nil {
		user = *e.User
	}
	config := &ssh.ClientConfig{User: user, HostKeyCallback: ssh.InsecureIgnoreHostKey()}
	if e.HostKey != nil && strings.TrimSpace(*e.HostKey) != "" {
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(*e.HostKey))
		if err != nil {
			return nil, nil, fmt.Errorf("connection.hostKey is not a public key in authorized_keys format: %w", err)
		}
		config.HostKeyCallback = ssh.FixedHostKey(key)
		config.HostKeyAlgorithms = []string{key.Type()}
		if key.Type() == ssh.KeyAlgoRSA {
			config.HostKeyAlgorithms = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
	}
	if e.PrivateKey != nil && *e.PrivateKey != "" {
		var signer ssh.Signer
		var err error
		if e.PrivateKeyPassword != nil && *e.PrivateKeyPassword != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(*e.PrivateKey), []byte(*e.PrivateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(*e.PrivateKey))
		}
		if err != nil {
			// Never include the key itself in the message.
			return nil, nil, fmt.Errorf("connection.privateKey cannot be parsed: %w", err)
		}
		config.Auth = append(config.Auth, ssh.PublicKeys(signer))
	}
	if e.Password != nil && *e.Password != "" {
		password := *e.Password
		config.Auth = append(config.Auth, ssh.Password(password),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = password
				}
				return answers, nil
			}))
	}
	closer := func() {}
	socket := os.Getenv("SSH_AUTH_SOCK")
	if e.AgentSocketPath != nil && *e.AgentSocketPath != "" {
		socket = *e.AgentSocketPath
	}
	if socket != "" {
		conn, err := net.Dial("unix", socket)
		if err != nil {
			if e.AgentSocketPath != nil && *e.AgentSocketPath != "" {
				return nil, nil, fmt.Errorf("connection.agentSocketPath %s: %w", socket, err)
			}
			// An unusable SSH_AUTH_SOCK from the environment is ignored.
		} else {
			config.Auth = append(config.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
			closer = func() { _ = conn.Close() }
		}
	}
	if len(config.Auth) == 0 {
		closer()
		return nil, nil, errors.New("connection has no way to log in: set privateKey, password or agentSocketPath")
	}
	return config, closer, nil
}

// dialer opens a TCP connection to an address; a proxy client's Dial or net.Dialer's.
type dialer func(ctx context.Context, address string) (net.Conn, error)

func directDialer(ctx context.Context, address string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", address)
}

// handshake dials the endpoint once through `dial` and runs the SSH handshake, all within
// perDialTimeout (0: no limit).
func (e *Endpoint) handshake(ctx context.Context, dial dialer, config *ssh.ClientConfig) (*ssh.Client, error) {
	timeout := e.perDialTimeout()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	address := e.address()
	conn, err := dial(ctx, address)
	if err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	// Close the connection when the context ends before the handshake does. stop() reports
	// whether it stopped the close in time: a handshake that ends just as the timeout fires
	// (a loaded host, a guest answering in 14.9 s of 15) must not hand back a connection that
	// is being closed, or the next step fails with "use of closed network connection" (seen
	// as "starting SFTP on the remote host" failing, with no retry).
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, address, config)
	if !stop() {
		if err == nil {
			_ = c.Close()
			err = errors.New("the connection was closed when the handshake ended")
		}
		_ = conn.Close()
		return nil, fmt.Errorf("%w (%v)", context.Cause(ctx), err)
	}
	if err != nil {
		_ = conn.Close()
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return nil, fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// dialWithRetries dials until it succeeds or more than dialErrorLimit attempts failed (-1: forever),
// waiting between attempts (1 s, growing to 5 s): a booting VM refuses connections or
// resets them for a minute or more. Authentication failures are retried too, as upstream does
// (sshd may run before cloud-init installed the authorized key).
func (e *Endpoint) dialWithRetries(ctx context.Context, what string, dial dialer, config *ssh.ClientConfig) (*ssh.Client, error) {
	limit := e.dialErrorLimit()
	wait := time.Second
	for failures := 0; ; {
		client, err := e.handshake(ctx, dial, config)
		if err == nil {
			return client, nil
		}
		failures++
		if ctx.Err() != nil {
			return nil, fmt.Errorf("dialing %s %s: %w", what, e.address(), ctx.Err())
		}
		// As upstream: dialErrorLimit errors are allowed, the next one is final.
		if limit >= 0 && failures > limit {
			return nil, fmt.Errorf("dialing %s %s failed %d times (dialErrorLimit %d), last error: %w",
				what, e.address(), failures, limit, err)
		}
		p.GetLogger(ctx).InfoStatusf("dialing %s %s: attempt %d failed (%v); retrying", what, e.address(), failures, err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("dialing %s %s: %w", what, e.address(), ctx.Err())
		}
		wait = min(wait*3/2, 5*time.Second)
	}
}

// session is an SSH client plus whatever must be closed with it.
type session struct {
	*ssh.Client
	closers []func()
}

// Close closes the client and what it was reached through.
func (s *session) Close() {
	_ = s.Client.Close()
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// Dial connects to the host, through the proxy when one is set.
func (c *Connection) Dial(ctx context.Context) (*session, error) {
	if c == nil || c.Host == nil || *c.Host == "" {
		return nil, errors.New("connection.host is required")
	}
	s := &session{}
	fail := func(err error) (*session, error) {
		for i := len(s.closers) - 1; i >= 0; i-- {
			s.closers[i]()
		}
		return nil, err
	}
	dial := dialer(directDialer)
	if c.Proxy != nil && c.Proxy.Host != nil && *c.Proxy.Host != "" {
		config, closer, err := c.Proxy.clientConfig()
		if err != nil {
			return fail(fmt.Errorf("proxy: %w", err))
		}
		s.closers = append(s.closers, closer)
		proxy, err := c.Proxy.dialWithRetries(ctx, "proxy", directDialer, config)
		if err != nil {
			return fail(err)
		}
		s.closers = append(s.closers, func() { _ = proxy.Close() })
		dial = func(ctx context.Context, address string) (net.Conn, error) {
			return proxy.DialContext(ctx, "tcp", address)
		}
	}
	config, closer, err := c.clientConfig()
	if err != nil {
		return fail(err)
	}
	s.closers = append(s.closers, closer)
	client, err := c.dialWithRetries(ctx, "host", dial, config)
	if err != nil {
		return fail(err)
	}
	s.Client = client
	return s, nil
}

package remote

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func ptr[T any](v T) *T { return &v }

// freeAddr returns a loopback port nothing listens on.
func freeAddr(t *testing.T) (string, float64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return "127.0.0.1", float64(port)
}

func connection(host string, port float64, limit, timeout int) *Connection {
	return &Connection{Endpoint: Endpoint{
		Host: &host, Port: &port, User: ptr("root"), Password: ptr("secret"),
		DialErrorLimit: &limit, PerDialTimeout: &timeout,
	}}
}

func TestDialGivesUpAfterDialErrorLimit(t *testing.T) {
	host, port := freeAddr(t)
	start := time.Now()
	_, err := connection(host, port, 2, 1).Dial(context.Background())
	if err == nil || !strings.Contains(err.Error(), "failed 3 times (dialErrorLimit 2)") {
		t.Fatalf("want a dialErrorLimit error, got %v", err)
	}
	// Two errors allowed, the third is final; waits of 1 s and 1.5 s between the attempts.
	if d := time.Since(start); d < 2500*time.Millisecond || d > 6*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestPerDialTimeoutEndsASilentHandshake(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // never answers
		}
	}()
	start := time.Now()
	_, err = connection("127.0.0.1", float64(l.Addr().(*net.TCPAddr).Port), 0, 1).Dial(context.Background())
	if err == nil {
		t.Fatal("want an error")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("perDialTimeout 1 s not honoured: took %v (%v)", d, err)
	}
}

// serverConfig is an SSH server's configuration with a fresh host key that lets root in with
// the password "secret" (the credentials of connection()).
func serverConfig(t *testing.T) *ssh.ServerConfig {
	t.Helper()
	_, hostKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(hostKey)
	if err != nil {
		t.Fatal(err)
	}
	config := &ssh.ServerConfig{PasswordCallback: func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
		if m.User() == "root" && string(pw) == "secret" {
			return &ssh.Permissions{}, nil
		}
		return nil, errRefused
	}}
	config.AddHostKey(signer)
	return config
}

// A server that appears only after a few refused attempts (a booting VM) is reached.
func TestDialRetriesUntilTheServerComesUp(t *testing.T) {
	host, port := freeAddr(t)
	config := serverConfig(t)
	go func() {
		time.Sleep(2 * time.Second)
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
		if err != nil {
			return
		}
		defer l.Close()
		c, err := l.Accept()
		if err != nil {
			return
		}
		_, chans, reqs, err := ssh.NewServerConn(c, config)
		if err != nil {
			return
		}
		go ssh.DiscardRequests(reqs)
		for ch := range chans {
			_ = ch.Reject(ssh.Prohibited, "test")
		}
	}()
	s, err := connection(host, port, -1, 2).Dial(context.Background())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	s.Close()
}

var errRefused = &net.AddrError{Err: "refused", Addr: "test"}

func TestHostKeyIsChecked(t *testing.T) {
	e := Endpoint{Host: ptr("127.0.0.1"), Password: ptr("x"), HostKey: ptr("not a key")}
	if _, _, err := e.clientConfig(); err == nil || !strings.Contains(err.Error(), "hostKey") {
		t.Fatalf("want a hostKey error, got %v", err)
	}
}

func TestNoCredentialsIsAnError(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	e := Endpoint{Host: ptr("127.0.0.1")}
	if _, _, err := e.clientConfig(); err == nil || !strings.Contains(err.Error(), "no way to log in") {
		t.Fatalf("want a credentials error, got %v", err)
	}
}

// A handshake that ends close to perDialTimeout hands back a connection that stays open after
// the timeout has passed: the timeout's watchdog is stopped, not left to close it later.
func TestAClientOutlivesItsDialTimeout(t *testing.T) {
	config := serverConfig(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		time.Sleep(700 * time.Millisecond) // a slow guest: the handshake ends near the 1 s limit
		_, chans, reqs, err := ssh.NewServerConn(c, config)
		if err != nil {
			return
		}
		go func() {
			for r := range reqs {
				_ = r.Reply(true, nil)
			}
		}()
		for ch := range chans {
			_ = ch.Reject(ssh.Prohibited, "test")
		}
	}()
	s, err := connection("127.0.0.1", float64(l.Addr().(*net.TCPAddr).Port), 0, 1).Dial(context.Background())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer s.Close()
	time.Sleep(1200 * time.Millisecond) // past the dial's deadline
	ok, _, err := s.SendRequest("keepalive@gentoo-infra.test", true, nil)
	if err != nil || !ok {
		t.Fatalf("the connection did not outlive its dial timeout: ok=%v err=%v", ok, err)
	}
}

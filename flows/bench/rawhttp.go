package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"authlab/flows"
)

// rawClient sends one fixed HTTP/1.1 request again and again over
// keep-alive connections it owns, writing and reading on the caller's
// goroutine. net/http hands every request to a per-connection writer and
// reader goroutine and back (three wake-ups per request) and allocates a
// request, a context with a timer and a header map each time; on a machine
// whose cores the server under test shares, that CPU comes out of the
// server's throughput. Here a request costs one write, the reads of its
// answer, and a parse by net/http's own response reader (http.ReadResponse),
// so chunked bodies, Connection: close and HTTP/1.0 keep their meaning.
//
// Same bounds as flows.Client: the per-call timeout (a connection deadline,
// also set from ctx), response headers capped at flows.MaxResponseHeader,
// bodies at flows.MaxResponseBody. No proxy: the caller falls back to
// net/http when the environment names one for the URL.
type rawClient struct {
	u       *url.URL
	addr    string      // host:port to dial
	tls     *tls.Config // nil for plain http
	request []byte      // the whole request, serialised once
	head    []byte      // request line and headers, without the blank line
	body    []byte      // request body
	timeout time.Duration
	dialer  net.Dialer

	mu     sync.Mutex
	idle   []*rawConn // at most maxIdle, so a burst never leaks descriptors
	closed bool
	max    int
	bufs   sync.Pool // *bytes.Buffer for bodies
}

// rawConn is one connection with its read buffer. lim bounds what one
// answer may make it read.
type rawConn struct {
	c   net.Conn
	lim limitedConn
	br  *bufio.Reader
}

// limitedConn reads from c until n bytes are used up, then reports an
// oversized answer instead of reading on.
type limitedConn struct {
	c net.Conn
	n int64
}

var errAnswerTooBig = errors.New("answer exceeds the header or body cap")

func (l *limitedConn) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errAnswerTooBig
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.c.Read(p)
	l.n -= int64(n)
	return n, err
}

// rawAnswer is a fully read answer. Body is valid until the next call
// with the same buffer.
type rawAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// newRawClient prepares method u with header and body for repeated sends
// by up to maxIdle concurrent callers. It returns nil when the URL is not
// http(s).
func newRawClient(method string, u *url.URL, header http.Header, body []byte, tlsConf *tls.Config, timeout time.Duration, maxIdle int) *rawClient {
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil
	}
	if timeout <= 0 {
		timeout = flows.DefaultTimeout
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	c := &rawClient{u: u, addr: net.JoinHostPort(host, port), timeout: timeout, max: max(maxIdle, 1),
		dialer: net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}}
	if u.Scheme == "https" {
		if tlsConf != nil {
			c.tls = tlsConf.Clone()
		} else {
			c.tls = &tls.Config{}
		}
		if c.tls.ServerName == "" {
			c.tls.ServerName = host
		}
		c.tls.NextProtos = []string{"http/1.1"}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: authlab-bench\r\n", method, u.RequestURI(), u.Host)
	if body != nil {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	// The header values are built by the caller from validated parts (a
	// base64 credential, fixed media types), so writing them as-is is safe;
	// Write also drops any CR/LF in a value.
	header.Write(&b)
	c.head = bytes.Clone(b.Bytes())
	c.body = bytes.Clone(body)
	b.WriteString("\r\n")
	b.Write(body)
	c.request = b.Bytes()
	return c
}

// appendWithHeader appends to dst the request with one more header line
// (a per-request value such as a DPoP proof), or false when the value
// could break the header block.
func (c *rawClient) appendWithHeader(dst []byte, name, value string) ([]byte, bool) {
	if strings.ContainsAny(name, "\r\n: ") || strings.ContainsAny(value, "\r\n") {
		return dst, false
	}
	dst = append(dst, c.head...)
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, c.body...), true
}

// Do sends the request and reads the whole answer into buf.
func (c *rawClient) Do(ctx context.Context, buf *bytes.Buffer) (rawAnswer, error) {
	return c.DoRequest(ctx, buf, c.request)
}

// DoRequest sends req, a whole serialised request for c's URL (the
// prepared one, or one from appendWithHeader), and reads the answer.
func (c *rawClient) DoRequest(ctx context.Context, buf *bytes.Buffer, req []byte) (rawAnswer, error) {
	for attempt := 0; ; attempt++ {
		rc, reused, err := c.conn(ctx)
		if err != nil {
			return rawAnswer{}, err
		}
		ans, started, keep, err := c.roundTrip(ctx, rc, buf, req)
		if keep {
			c.put(rc)
		} else {
			rc.c.Close()
		}
		if err == nil {
			return ans, nil
		}
		// A kept-alive connection the server closed while idle fails before
		// any byte of an answer: send once more on a fresh one, as net/http
		// does for a request whose body it can replay.
		if !reused || started || attempt > 0 || ctx.Err() != nil {
			return rawAnswer{}, err
		}
	}
}

// roundTrip writes the request on rc and reads the answer. keep says rc
// may serve the next request.
func (c *rawClient) roundTrip(ctx context.Context, rc *rawConn, buf *bytes.Buffer, req []byte) (ans rawAnswer, started, keep bool, err error) {
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	rc.c.SetDeadline(deadline)
	stop := func() bool { return true }
	if ctx.Done() != nil {
		// Cancellation breaks the connection's deadline, so a blocked read
		// returns at once; no goroutine waits per request.
		stop = context.AfterFunc(ctx, func() { rc.c.SetDeadline(time.Unix(1, 0)) })
	}
	ans, started, keep, err = c.exchange(rc, buf, req)
	if !stop() { // the deadline was broken: say why, and drop the connection
		keep = false
		if err != nil {
			err = ctx.Err()
		}
	}
	return ans, started, keep, err
}

func (c *rawClient) exchange(rc *rawConn, buf *bytes.Buffer, req []byte) (ans rawAnswer, started, keep bool, err error) {
	if _, err := rc.c.Write(req); err != nil {
		return ans, false, false, err
	}
	rc.lim.n = flows.MaxResponseHeader
	if _, err := rc.br.Peek(1); err != nil {
		return ans, false, false, err
	}
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		if errors.Is(err, errAnswerTooBig) {
			err = fmt.Errorf("%s sent more than %d bytes of response headers", c.u.Host, flows.MaxResponseHeader)
		}
		return ans, true, false, err
	}
	rc.lim.n += flows.MaxResponseBody + 1
	buf.Reset()
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, flows.MaxResponseBody+1))
	if errors.Is(err, errAnswerTooBig) || int64(buf.Len()) > flows.MaxResponseBody {
		return ans, true, false, flows.Errorf(flows.ErrProtocol, "%s answered more than %d bytes; refusing to read further", c.u.Host, flows.MaxResponseBody)
	}
	if err != nil {
		return ans, true, false, err
	}
	// Only a body read to its end leaves the connection at the next answer.
	return rawAnswer{Status: resp.StatusCode, Header: resp.Header, Body: buf.Bytes()}, true, !resp.Close, nil
}

// conn returns an idle connection or dials one.
func (c *rawClient) conn(ctx context.Context) (*rawConn, bool, error) {
	c.mu.Lock()
	if n := len(c.idle); n > 0 {
		rc := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return rc, true, nil
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var nc net.Conn
	var err error
	if c.tls != nil {
		d := tls.Dialer{NetDialer: &c.dialer, Config: c.tls}
		nc, err = d.DialContext(ctx, "tcp", c.addr)
	} else {
		nc, err = c.dialer.DialContext(ctx, "tcp", c.addr)
	}
	if err != nil {
		return nil, false, err
	}
	rc := &rawConn{c: nc, lim: limitedConn{c: nc}}
	rc.br = bufio.NewReaderSize(&rc.lim, 4<<10)
	return rc, false, nil
}

func (c *rawClient) put(rc *rawConn) {
	c.mu.Lock()
	if c.closed || len(c.idle) >= c.max {
		c.mu.Unlock()
		rc.c.Close()
		return
	}
	c.idle = append(c.idle, rc)
	c.mu.Unlock()
}

// Close closes the idle connections; connections in use close when their
// request ends.
func (c *rawClient) Close() {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	for _, rc := range idle {
		rc.c.Close()
	}
}

// buffer returns a body buffer from the pool; release returns it.
func (c *rawClient) buffer() *bytes.Buffer {
	if b, ok := c.bufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func (c *rawClient) release(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 { // an odd huge answer is not kept
		c.bufs.Put(b)
	}
}

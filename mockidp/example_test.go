package mockidp_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"authlab/mockidp"

	"golang.org/x/oauth2/clientcredentials"
)

// The mock IdP from Go: start, break on purpose, watch, reset. In a test,
// mockidptest.New(t) does the first three lines and the Close.
func Example() {
	s, err := mockidp.New(mockidp.Options{Alg: "ES256"})
	if err != nil {
		panic(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer s.Close()

	events, stop := s.Events(16)
	defer stop()

	cc := clientcredentials.Config{ClientID: "demo-cc", ClientSecret: "demo-cc-secret", TokenURL: s.URL() + "/token"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	s.SetFaults(mockidp.Faults{Errors: map[string]mockidp.ErrorFault{mockidp.EPToken: {Status: 503, Error: "temporarily_unavailable", Count: 1}}})
	_, err = (&http.Client{}).Get(s.URL() + "/jwks") // not faulted: only the token endpoint is
	fmt.Println("jwks:", err == nil)
	s.ResetFaults()

	tok, err := cc.Token(ctx)
	fmt.Println("token:", err == nil, tok.Type())
	for e := range events {
		if e.Endpoint == mockidp.EPToken {
			fmt.Println("event:", e.Endpoint, e.ClientID, e.Exchange.Status)
			break
		}
	}
	// Output:
	// jwks: true
	// token: true Bearer
	// event: token demo-cc 200
}

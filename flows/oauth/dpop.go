package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"authlab/flows"
	"authlab/flows/dpop"
)

// loadDPoPKey builds the request's DPoP key: loaded (key data wins over
// the file) or ephemeral. nil when the request does not use DPoP.
func loadDPoPKey(req *flows.Request) (*dpop.Key, error) {
	if !req.UsesDPoP() {
		return nil, nil
	}
	data, err := dpop.KeyData(req)
	if err != nil {
		return nil, err
	}
	if data == nil {
		k, err := dpop.Generate(req.DPoPAlg)
		if err != nil {
			return nil, flows.Errorf(flows.ErrConfig, "%s: %v", flows.FieldDPoPAlg, err)
		}
		return k, nil
	}
	k, err := dpop.Load(data, req.DPoPAlg)
	if err != nil {
		return nil, flows.Errorf(flows.ErrConfig, "%s: %v", flows.FieldDPoPKey, err)
	}
	return k, nil
}

// DPoPKey is the engine's proof key, or nil.
func (e *Engine) DPoPKey() *dpop.Key { return e.dpop }

// dpopInfo returns the run's DPoP record, creating it.
func (r *run) dpopInfo() *flows.DPoPInfo {
	if r.res.DPoP == nil {
		k := r.e.dpop
		r.res.DPoP = &flows.DPoPInfo{JKT: k.JKT(), Alg: k.Alg(), Ephemeral: k.Ephemeral()}
	}
	return r.res.DPoP
}

// sendProofed sends one request with a fresh DPoP proof (when the engine
// has a key) and the one nonce retry of RFC 9449 8 and 9. prepare builds
// the request's form and headers for each attempt, so a client assertion
// (whose jti the server has already seen) is new on the retry. form nil
// means GET. accessToken, when set, is bound into the proof as ath.
func (e *Engine) sendProofed(ctx context.Context, r *run, step, method, target, accessToken string, prepare func() (url.Values, http.Header, error)) (*flows.Response, error) {
	do := func(nonce string, withProof bool) (*flows.Response, error) {
		form, header, err := prepare()
		if err != nil {
			return nil, err
		}
		if header == nil {
			header = http.Header{}
		}
		if withProof {
			proof, err := e.dpop.Proof(method, target, nonce, accessToken)
			if err != nil {
				return nil, flows.Errorf(flows.ErrConfig, "%s: DPoP proof: %v", step, err)
			}
			header.Set(dpop.Header, proof)
		}
		if method == http.MethodGet {
			return r.hc.Get(ctx, step, target, header)
		}
		return r.hc.PostForm(ctx, step, target, form, header)
	}
	if e.dpop == nil {
		return do("", false)
	}
	info := r.dpopInfo()
	resp, retries, err := dpop.Do(e.nonces, target, func(nonce string) (*flows.Response, error) { return do(nonce, true) })
	info.NonceRetries += retries
	if retries > 0 {
		detail := "the server asked for a DPoP nonce (use_dpop_nonce); retried once with it"
		var ne *dpop.NonceError
		if errors.As(err, &ne) {
			detail = "the server asked for a new DPoP nonce again on the retry; not retrying further"
		}
		r.note("dpop nonce", detail, !errors.As(err, &ne))
	}
	var ne *dpop.NonceError
	if errors.As(err, &ne) {
		return resp, &flows.Error{Kind: flows.ErrOAuth, Status: resp.Status, OAuthError: dpop.ErrUseNonce, Message: step + ": " + ne.Error(), OAuthDescription: "repeated use_dpop_nonce"}
	}
	return resp, err
}

// authorization is the Authorization header for a resource call: DPoP
// with a key and a DPoP token (or an unknown token type), else Bearer. A
// token the server issued as DPoP is never sent as a bearer token.
func (e *Engine) authorization(r *run, tok string) (string, error) {
	tt := ""
	if r.res.Token != nil {
		tt = r.res.Token.TokenType
	}
	isDPoP := strings.EqualFold(tt, dpop.Scheme)
	switch {
	case e.dpop != nil && (isDPoP || tt == ""):
		return dpop.Scheme + " " + tok, nil
	case isDPoP:
		return "", flows.Errorf(flows.ErrConfig, "the access token is DPoP-bound (token_type DPoP) but no DPoP key is set (%s); it is never sent as a bearer token", flows.FieldDPoPKey)
	}
	return "Bearer " + tok, nil
}

// resourceGet calls a resource (userinfo, --call) with the token, a proof
// when the token is DPoP-bound, and the resource-side nonce retry.
func (e *Engine) resourceGet(ctx context.Context, r *run, step, target, tok string) (*flows.Response, error) {
	authz, err := e.authorization(r, tok)
	if err != nil {
		return nil, err
	}
	prepare := func() (url.Values, http.Header, error) {
		return nil, http.Header{"Authorization": {authz}, "Accept": {"*/*"}}, nil
	}
	if !strings.HasPrefix(authz, dpop.Scheme+" ") {
		_, h, _ := prepare()
		return r.hc.Get(ctx, step, target, h)
	}
	return e.sendProofed(ctx, r, step, http.MethodGet, target, tok, prepare)
}

// dpopTokenChecks: a proof was sent, so the token should be DPoP and, as
// a JWT, bound to our key (RFC 9449 5, 6).
func (e *Engine) dpopTokenChecks(r *run, tr *flows.TokenResponse) {
	if tr == nil {
		return
	}
	if e.dpop == nil {
		if strings.EqualFold(tr.TokenType, dpop.Scheme) {
			r.res.AddCheck(flows.Check{Name: "dpop token_type", Status: flows.Warn,
				Detail: fmt.Sprintf("the server issued a DPoP token though no proof was sent; using it needs the key it is bound to (%s)", flows.FieldDPoPKey)})
		}
		return
	}
	if !strings.EqualFold(tr.TokenType, dpop.Scheme) {
		r.res.AddCheck(flows.Check{Name: "dpop token_type", Status: flows.Warn,
			Detail: fmt.Sprintf("a DPoP proof was sent, but the server issued token_type %s: the token is not sender-constrained (the server ignores DPoP, or this client is not set up for it)", orNone(tr.TokenType))})
		return
	}
	r.res.AddCheck(flows.Check{Name: "dpop token_type", Status: flows.Pass, Detail: "DPoP: the token is bound to our key (RFC 9449 5)"})
	if dt := r.res.AccessToken; dt != nil && dt.Claims != nil {
		r.res.AddCheck(dpop.JKTCheck(e.dpop.JKT(), dpop.CnfJKT(dt.Claims), "the access token"))
	}
}

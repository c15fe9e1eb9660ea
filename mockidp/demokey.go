package mockidp

import _ "embed" // the demo-jwt key ships in the binary for `authlab demo`

// DemoJWTKeyPEM is the private key of the demo-jwt client (EC P-256, kid
// demo-jwt-1), the private half of DemoJWTPublicJWKS: the demo's
// private_key_jwt, request object and jwt-bearer profiles sign with it. It
// is a published test fixture (testdata/mockidp/demo-jwt.key holds the same
// bytes), so demo-jwt proves nothing outside demos.
//
//go:embed demo-jwt.key
var DemoJWTKeyPEM string

package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 document of the API. It is written by hand,
// and openapi_test.go holds it to the routes Register serves and to the
// event schemas publishing validates against, so it cannot drift unseen.
//
//go:embed openapi.json
var openAPI []byte

// serveOpenAPI answers GET /openapi.json. It needs no token: a client
// generator or a reader should get it before holding one.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(openAPI)
}

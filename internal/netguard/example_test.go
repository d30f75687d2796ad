package netguard_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/netguard"
)

// A delivery client: every connection it makes goes through the guard, and a
// refused target is told apart from a network failure.
func ExampleGuard() {
	guard := &netguard.Guard{AllowPrivate: false} // --allow-private-targets sets true
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:       nil, // a proxy would connect to the target unchecked
			DialContext: guard.DialContext,
		},
		Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // redirects are not followed
		},
	}
	_, err := client.Post("http://0x7f.1:8080/hook", "application/json", nil)
	fmt.Println(err)
	// Output: Post "http://0x7f.1:8080/hook": refused to connect to 0x7f.1 at 127.0.0.1: loopback address
}

func ExampleCheckURL() {
	fmt.Println(netguard.CheckURL("https://hooks.example.com/onetalk", false) == "")
	fmt.Println(netguard.CheckURL("http://[::ffff:a9fe:a9fe]/latest/meta-data/", false))
	// Output:
	// true
	// must not point to a private or local address (::ffff:a9fe:a9fe is ::ffff:169.254.169.254: IPv4-mapped address embedding 169.254.169.254: link-local address (cloud metadata))
}

package netsuite

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// The RFC 5849 section 3.4.1.1 example (body parameters moved to the query, HMAC-SHA256, oauth_version added).
func TestSignatureBaseStringRFC5849(t *testing.T) {
	u, _ := url.Parse("http://EXAMPLE.COM:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b&c2&a3=2+q")
	p := OAuthParams{Realm: "Example", ConsumerKey: "9djdj82h48djs9d2", Token: "kkk9d7dh3k39sjv7", Nonce: "7d8f3e4a",
		Timestamp: "137131201", SignatureMethod: SignatureMethod, Version: "1.0"}
	want := "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26" +
		"oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA256%26" +
		"oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7%26oauth_version%3D1.0"
	got := SignatureBaseString("post", u, p)
	if got != want {
		t.Fatalf("base string\n got %s\nwant %s", got, want)
	}
	// Independently computed: printf '%s' "$BASE" | openssl dgst -sha256 -hmac 'j49sk3j29djd&dh893hdasih9' -binary | base64
	sig := Sign(got, Credentials{ConsumerSecret: "j49sk3j29djd", TokenSecret: "dh893hdasih9"})
	if sig != "xie2kqHv7CoC3VI1g/IUClHXm4q+1H3XJZG1izUgBXs=" {
		t.Fatalf("signature %s", sig)
	}
}

func TestAuthorizationHeaderRoundTrip(t *testing.T) {
	c := Credentials{ConsumerKey: "ck", ConsumerSecret: "cs+/=", TokenID: "tid", TokenSecret: "ts&x"}
	u, _ := url.Parse("https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=10&offset=20")
	h, err := AuthorizationHeader("POST", u, "1234567_SB1", c, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, `OAuth realm="1234567_SB1", oauth_consumer_key="ck", oauth_token="tid", oauth_signature_method="HMAC-SHA256", oauth_timestamp="1700000000"`) {
		t.Fatalf("header %s", h)
	}
	p, err := ParseAuthorization(h)
	if err != nil {
		t.Fatal(err)
	}
	if !Verify("POST", u, p, c) {
		t.Fatal("own signature does not verify")
	}
	other, _ := url.Parse("https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=10&offset=30")
	if Verify("POST", other, p, c) || Verify("GET", u, p, c) {
		t.Fatal("signature verifies for another request")
	}
	c.TokenSecret = "wrong"
	if Verify("POST", u, p, c) {
		t.Fatal("signature verifies with another token secret")
	}
}

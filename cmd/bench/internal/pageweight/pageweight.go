// Package pageweight measures what a browser downloads for the signed-in page: a first load (the
// page and every asset it references) and a repeat load, on the wire and decoded.
package pageweight

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
)

// BrowserAcceptEncoding is what Chromium sends; the app answers with gzip where it compresses.
const BrowserAcceptEncoding = "gzip, deflate, br, zstd"

// Resource is one response of a page load, as it crossed the wire and once decoded.
type Resource struct {
	Kind, Path   string
	Wire, Raw    int    // body bytes on the wire, and decoded
	Header       int    // status line and headers, as HTTP/1.1 writes them
	Encoding     string // Content-Encoding
	CacheControl string
}

// Weight is a first load and a repeat load.
type Weight struct {
	First       []Resource
	Repeat      []Resource // what a browser fetches again: the page only, when assets are immutable
	Refetched   []string   // assets a browser would fetch again, and why
	FirstWire   int
	FirstRaw    int
	FirstHeader int
	RepeatWire  int
}

// Measure loads pageURL as a browser would on a first visit and on a second one, with the
// cookies of jar. Its client must see the encoded bytes, so it has a transport of its own.
func Measure(ctx context.Context, jar http.CookieJar, pageURL string) (Weight, error) {
	c := &http.Client{Jar: jar, Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var w Weight
	assets, err := w.firstLoad(ctx, c, pageURL)
	if err != nil {
		return w, err
	}
	if err := w.repeatLoad(ctx, c, pageURL, assets); err != nil {
		return w, err
	}
	for _, r := range w.First {
		w.FirstWire += r.Wire
		w.FirstRaw += r.Raw
		w.FirstHeader += r.Header
	}
	for _, r := range w.Repeat {
		w.RepeatWire += r.Wire
	}
	return w, nil
}

func (w *Weight) firstLoad(ctx context.Context, c *http.Client, pageURL string) ([]assetRef, error) {
	page, html, err := fetch(ctx, c, "html", pageURL)
	if err != nil {
		return nil, err
	}
	w.First = append(w.First, page)
	assets, err := assetURLs(html, pageURL)
	if err != nil {
		return nil, err
	}
	if len(assets) == 0 {
		return nil, fmt.Errorf("the page references no CSS, JavaScript or icon")
	}
	for _, a := range assets {
		r, _, err := fetch(ctx, c, a.kind, a.url)
		if err != nil {
			return nil, err
		}
		w.First = append(w.First, r)
		if !Immutable(r.CacheControl) {
			w.Refetched = append(w.Refetched, fmt.Sprintf("%s (Cache-Control %q)", r.Path, r.CacheControl))
		}
	}
	return assets, nil
}

// repeatLoad is the page again; an asset is fetched again only if its URL changed or it may
// not be kept a year without revalidation (firstLoad noted those).
func (w *Weight) repeatLoad(ctx context.Context, c *http.Client, pageURL string, before []assetRef) error {
	again, html, err := fetch(ctx, c, "html", pageURL)
	if err != nil {
		return err
	}
	w.Repeat = append(w.Repeat, again)
	assets, err := assetURLs(html, pageURL)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, a := range before {
		seen[a.url] = true
	}
	for _, a := range assets {
		if seen[a.url] {
			continue
		}
		w.Refetched = append(w.Refetched, a.url+" (new URL on the repeat load)")
		r, _, err := fetch(ctx, c, a.kind, a.url)
		if err != nil {
			return err
		}
		w.Repeat = append(w.Repeat, r)
	}
	return nil
}

type assetRef struct{ kind, url string }

func assetURLs(html []byte, pageURL string) ([]assetRef, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(html))
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil, err
	}
	var refs []assetRef
	add := func(kind, href string) {
		if u, err := base.Parse(href); href != "" && err == nil {
			refs = append(refs, assetRef{kind, u.String()})
		}
	}
	doc.Find(`link[rel~="stylesheet"]`).Each(func(_ int, s *goquery.Selection) { add("css", s.AttrOr("href", "")) })
	doc.Find(`script[src]`).Each(func(_ int, s *goquery.Selection) { add("js", s.AttrOr("src", "")) })
	doc.Find(`link[rel~="icon"]`).Each(func(_ int, s *goquery.Selection) { add("icon", s.AttrOr("href", "")) })
	return refs, nil
}

// fetch GETs u as a browser would and returns its weight and its decoded body.
func fetch(ctx context.Context, c *http.Client, kind, u string) (Resource, []byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("Accept-Encoding", BrowserAcceptEncoding)
	resp, err := c.Do(req)
	if err != nil {
		return Resource{}, nil, err
	}
	defer resp.Body.Close()
	wire, err := io.ReadAll(resp.Body)
	if err != nil {
		return Resource{}, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return Resource{}, nil, fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	raw, err := decode(wire, resp.Header.Get("Content-Encoding"))
	if err != nil {
		return Resource{}, nil, fmt.Errorf("GET %s: %w", u, err)
	}
	var hb bytes.Buffer
	fmt.Fprintf(&hb, "HTTP/1.1 %s\r\n", resp.Status)
	_ = resp.Header.Write(&hb)
	hb.WriteString("\r\n")
	return Resource{Kind: kind, Path: resp.Request.URL.Path, Wire: len(wire), Raw: len(raw), Header: hb.Len(),
		Encoding: resp.Header.Get("Content-Encoding"), CacheControl: resp.Header.Get("Cache-Control")}, raw, nil
}

func decode(wire []byte, encoding string) ([]byte, error) {
	switch encoding {
	case "":
		return wire, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(wire))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	default:
		return nil, fmt.Errorf("unexpected Content-Encoding %q", encoding)
	}
}

// Immutable says whether a browser may keep the response a year without asking again.
func Immutable(cc string) bool {
	var maxAge int
	var imm bool
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		switch {
		case d == "immutable":
			imm = true
		case strings.HasPrefix(d, "max-age="):
			maxAge, _ = strconv.Atoi(strings.TrimPrefix(d, "max-age="))
		}
	}
	return imm && maxAge >= 31536000
}

package main

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

// browserAcceptEncoding is what Chromium sends; the app answers with gzip where it compresses.
const browserAcceptEncoding = "gzip, deflate, br, zstd"

// resource is one response of a page load, as it crossed the wire and once decoded.
type resource struct {
	kind, path   string
	wire, raw    int    // body bytes on the wire, and decoded
	header       int    // status line and headers, as HTTP/1.1 writes them
	encoding     string // Content-Encoding
	cacheControl string
}

// pageWeight is a first load (page and every asset it references) and a repeat load.
type pageWeight struct {
	first       []resource
	repeat      []resource // what a browser fetches again: the page only, when assets are immutable
	refetched   []string   // assets a browser would fetch again, and why
	firstWire   int
	firstRaw    int
	repeatWire  int
	firstHeader int
}

// measurePageWeight loads the page as a browser would on a first visit and on a second one.
// The session's cookies are used, but not its transport: this client must see the encoded bytes.
func measurePageWeight(ctx context.Context, s *session) (pageWeight, error) {
	c := &http.Client{Jar: s.client.Jar, Transport: &http.Transport{DisableCompression: true}, CheckRedirect: s.client.CheckRedirect}
	var w pageWeight
	page, html, err := fetch(ctx, c, "html", s.appURL)
	if err != nil {
		return w, err
	}
	w.first = append(w.first, page)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(html))
	if err != nil {
		return w, err
	}
	base, _ := url.Parse(s.appURL)
	assets := assetURLs(doc, base)
	if len(assets) == 0 {
		return w, fmt.Errorf("the page references no CSS, JavaScript or icon")
	}
	for _, a := range assets {
		r, _, err := fetch(ctx, c, a.kind, a.url)
		if err != nil {
			return w, err
		}
		w.first = append(w.first, r)
		if !immutable(r.cacheControl) {
			w.refetched = append(w.refetched, fmt.Sprintf("%s (Cache-Control %q)", r.path, r.cacheControl))
		}
	}

	// The repeat visit: the page again; an asset is fetched again only if its URL changed or it
	// may not be cached for a year without revalidation.
	again, html2, err := fetch(ctx, c, "html", s.appURL)
	if err != nil {
		return w, err
	}
	w.repeat = append(w.repeat, again)
	doc2, err := goquery.NewDocumentFromReader(bytes.NewReader(html2))
	if err != nil {
		return w, err
	}
	seen := map[string]bool{}
	for _, a := range assets {
		seen[a.url] = true
	}
	for _, a := range assetURLs(doc2, base) {
		if !seen[a.url] {
			w.refetched = append(w.refetched, a.url+" (new URL on the repeat load)")
			r, _, err := fetch(ctx, c, a.kind, a.url)
			if err != nil {
				return w, err
			}
			w.repeat = append(w.repeat, r)
		}
	}
	for _, r := range w.first {
		w.firstWire += r.wire
		w.firstRaw += r.raw
		w.firstHeader += r.header
	}
	for _, r := range w.repeat {
		w.repeatWire += r.wire
	}
	return w, nil
}

type assetRef struct{ kind, url string }

func assetURLs(doc *goquery.Document, base *url.URL) []assetRef {
	var refs []assetRef
	add := func(kind, href string) {
		if href == "" {
			return
		}
		u, err := base.Parse(href)
		if err == nil {
			refs = append(refs, assetRef{kind, u.String()})
		}
	}
	doc.Find(`link[rel~="stylesheet"]`).Each(func(_ int, s *goquery.Selection) { add("css", s.AttrOr("href", "")) })
	doc.Find(`script[src]`).Each(func(_ int, s *goquery.Selection) { add("js", s.AttrOr("src", "")) })
	doc.Find(`link[rel~="icon"]`).Each(func(_ int, s *goquery.Selection) { add("icon", s.AttrOr("href", "")) })
	return refs
}

func fetch(ctx context.Context, c *http.Client, kind, u string) (resource, []byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("Accept-Encoding", browserAcceptEncoding)
	resp, err := c.Do(req)
	if err != nil {
		return resource{}, nil, err
	}
	defer resp.Body.Close()
	wire, err := io.ReadAll(resp.Body)
	if err != nil {
		return resource{}, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return resource{}, nil, fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	raw := wire
	enc := resp.Header.Get("Content-Encoding")
	switch enc {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(wire))
		if err != nil {
			return resource{}, nil, fmt.Errorf("GET %s: %w", u, err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return resource{}, nil, fmt.Errorf("GET %s: %w", u, err)
		}
	default:
		return resource{}, nil, fmt.Errorf("GET %s: unexpected Content-Encoding %q", u, enc)
	}
	var hb bytes.Buffer
	fmt.Fprintf(&hb, "HTTP/1.1 %s\r\n", resp.Status)
	_ = resp.Header.Write(&hb)
	hb.WriteString("\r\n")
	pu, _ := url.Parse(u)
	return resource{kind: kind, path: pu.Path, wire: len(wire), raw: len(raw), header: hb.Len(), encoding: enc,
		cacheControl: resp.Header.Get("Cache-Control")}, raw, nil
}

// immutable says whether a browser may keep the response a year without asking again.
func immutable(cc string) bool {
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

package views

import (
	"context"

	"pcsupport/internal/i18n"
)

// t returns a message in the language of the request being rendered.
func t(ctx context.Context, id string, args ...any) string {
	return i18n.FromContextOrDefault(ctx).T(id, args...)
}

// lang is the html lang attribute of the page being rendered.
func lang(ctx context.Context) string {
	return i18n.FromContextOrDefault(ctx).Code
}

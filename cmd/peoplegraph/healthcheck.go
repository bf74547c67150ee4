package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// healthcheck lets a container without a shell or curl probe the server.
func healthcheck(ctx context.Context, env environment, args []string) error {
	s := newSettings("healthcheck", env)
	url := s.fs.String("url", "http://127.0.0.1:8080/readyz", "URL that must answer 200")
	if err := s.parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", *url, res.StatusCode)
	}
	return nil
}

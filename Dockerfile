# The service as a container: a static binary (the SQLite driver is pure
# Go, so CGO_ENABLED=0) on an empty base, running as a non-root user, its
# data in a volume at /data, listening on 0.0.0.0:8080. With no settings
# it starts as `serve` does: SQLite, a generated admin token and secret
# key, both saved in /data.
#
#   podman build -t onetalk-webhooks .
#   podman run -p 8080:8080 -v otw-data:/data onetalk-webhooks
FROM docker.io/library/golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/onetalk-webhooks ./cmd/onetalk-webhooks \
 && mkdir -p /out/data

FROM scratch
# Webhook URLs are usually https: the receivers' certificates are checked
# against these.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/onetalk-webhooks /onetalk-webhooks
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV OTW_ADDR=0.0.0.0:8080 \
    OTW_DB=sqlite:/data/onetalk-webhooks.db
VOLUME /data
EXPOSE 8080
# No shell in the image: the binary asks its own /readyz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s CMD ["/onetalk-webhooks", "healthcheck"]
ENTRYPOINT ["/onetalk-webhooks"]
CMD ["serve"]

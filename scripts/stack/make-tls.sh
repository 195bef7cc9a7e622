#!/bin/sh
# The SASL_SSL listener's throw-away material, with openssl only (POSIX sh, so an openssl container
# can run it for docker-compose too):
#
#   scripts/stack/make-tls.sh DIR USER [SAN...]     e.g. make-tls.sh /tls listing_notifier DNS:kafka
#
#   ca.pem, ca.key          the CA clients trust (source.tls.caFile)
#   broker.p12              the broker's key and certificate, PKCS12 with keystore-password; SANs
#                           IP:127.0.0.1, DNS:localhost and any given (broker.pem/.key: the same in PEM)
#   client.pem, client.key  a client certificate from the same CA (mutual TLS)
#   untrusted-ca.pem        a CA that signed nothing here (tests: a CA file that does not trust the broker)
#   sasl-username, sasl-password, keystore-password   one line each
# Everything is readable by its owner only, except the certificates.
set -eu
[ $# -ge 2 ] || {
  echo "usage: $0 DIR USER [SAN...]" >&2
  exit 2
}
dir=$1
user=$2
shift 2
sans="IP:127.0.0.1,DNS:localhost"
for san in "$@"; do sans="$sans,$san"; done
days=3650

umask 077
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days "$days" -keyout ca.key -out ca.pem \
  -subj "/CN=listing-notifier stack CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=localhost"
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$sans" >broker.ext
openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" \
  -extfile broker.ext -out broker.pem
openssl rand -hex 16 >keystore-password
openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
  -passout "file:keystore-password" -out broker.p12
openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=$user"
printf 'extendedKeyUsage=clientAuth\n' >client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" \
  -extfile client.ext -out client.pem
openssl req -x509 -newkey rsa:2048 -nodes -days "$days" -keyout untrusted-ca.key \
  -out untrusted-ca.pem -subj "/CN=listing-notifier untrusted CA" -addext "basicConstraints=critical,CA:TRUE"
printf '%s\n' "$user" >sasl-username
openssl rand -hex 16 >sasl-password
rm -f ./*.csr ./*.ext ./*.srl
chmod 644 ca.pem untrusted-ca.pem client.pem broker.pem

"""The container runtime side of a CRI call: the chain interpreter that walks any chain's steps
hop by hop (``interpreter``), the request context and hop failures (``context``), and the image
store with its pull machinery (``images``)."""

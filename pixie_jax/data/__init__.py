"""The data a run reads: corpora (streamed, text8, the bundled slice), the vocabulary and noise table,
cached token ids, embedding files, downloads, and the data bundled with the package (its folders here)."""

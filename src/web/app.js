/* patchscope web view: the page script (being written: issue 12). */

package builder

import "time"

// RecordedSources lists the version folders (name/version) whose own
// state the build record in out holds, so that the next scan may skip
// listing them.
func RecordedSources(out string) []string {
	c, _ := loadCache(out)
	if c == nil {
		return nil
	}
	var rels []string
	for _, rel := range c.order {
		if c.Versions[rel].Source.Inode != 0 {
			rels = append(rels, rel)
		}
	}
	return rels
}

// Settled and FolderState expose settled for its test.
var Settled = settled

func FolderState(mtime, ctime time.Time) fileState {
	return fileState{Name: ".", MTime: mtime.UnixNano(), CTime: ctime.UnixNano(), Inode: 1}
}
